"""The service's outer walls, as ASGI middleware: a bearer key, a body-size bound, and which Host headers are served
(against DNS rebinding: a web page on another origin that resolves its name to 127.0.0.1 still sends its own Host)."""

from __future__ import annotations

import hmac
import ipaddress

from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import JSONResponse

LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1", "[::1]"]
OPENAI_PREFIX = "/v1/"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def error_body(path: str, status: int, message: str, code: str | None = None, param: str | None = None) -> dict:
    """OpenAI's error shape under /v1/, FastAPI's ``{"detail": ...}`` elsewhere."""
    if path.startswith(OPENAI_PREFIX):
        kind = {401: "authentication_error", 404: "not_found_error"}.get(status, "invalid_request_error")
        return {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return {"detail": message}


async def refuse(scope, receive, send, status: int, message: str, code: str | None = None, headers: dict | None = None):
    response = JSONResponse(error_body(scope.get("path", ""), status, message, code), status, headers=headers)
    await response(scope, receive, send)


class BearerAuth:
    """Every request needs ``Authorization: Bearer <key>`` (compared in constant time); ``key=None`` lets all in."""

    def __init__(self, app, key: str | None):
        self.app, self.key = app, key.encode() if key else None

    async def __call__(self, scope, receive, send):
        if self.key is None or scope["type"] != "http":
            return await self.app(scope, receive, send)
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self.key):
            return await refuse(
                scope,
                receive,
                send,
                401,
                "missing or wrong API key: send Authorization: Bearer <key>",
                "invalid_api_key",
                {"WWW-Authenticate": "Bearer"},
            )
        return await self.app(scope, receive, send)


class BodyLimit:
    """Refuse request bodies above ``limit`` bytes, declared (Content-Length) or streamed: the body is read here, up
    to the limit and no further, then handed on whole."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length")
        too_large = f"request body over {self.limit} bytes"
        if declared is not None and not declared.isdigit():
            return await refuse(scope, receive, send, 400, "bad Content-Length header")
        if declared is not None and int(declared) > self.limit:
            return await refuse(scope, receive, send, 413, too_large)
        body, more = bytearray(), True
        while more:
            event = await receive()
            if event["type"] == "http.disconnect":
                return None
            body += event.get("body", b"")
            if len(body) > self.limit:
                return await refuse(scope, receive, send, 413, too_large)
            more = event.get("more_body", False)
        handed = False

        async def replay():
            nonlocal handed
            if handed:
                return await receive()  # after the body: only a disconnect can come
            handed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        return await self.app(scope, replay, send)


def trusted_hosts(app, allowed_hosts: list[str] | None, bind_host: str, keyed: bool = False):
    """Serve only requests whose Host header names this service. Default: the loopback names when bound to loopback;
    a specific bound address is added; a key-guarded service on the network accepts any name (a rebinding page cannot
    send the key). ``["*"]`` accepts any (behind a proxy that checks Host itself)."""
    if allowed_hosts is None:
        if keyed and not is_loopback(bind_host):
            allowed_hosts = ["*"]
        else:
            allowed_hosts = LOOPBACK_NAMES + (
                [] if is_loopback(bind_host) or bind_host in ("0.0.0.0", "::") else [bind_host]
            )
    return TrustedHostMiddleware(app, allowed_hosts=allowed_hosts, www_redirect=False)
