"""The FastAPI app: the routes, the error shapes, and the walls around them."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .context import ServiceContext
from .limits import RequestRefused, ServiceLimits
from .native import native_routes
from .openai_api import openai_routes
from .security import OPENAI_PREFIX, BearerAuth, BodyLimit, error_body, trusted_hosts


def build_app(
    client,
    limits: ServiceLimits | None = None,
    api_key: str | None = None,
    allowed_hosts: list[str] | None = None,
    bind_host: str = "127.0.0.1",
):
    """The ASGI app: routes inside a bearer-key check, a body-size bound and a Host check (outermost)."""
    limits = limits or ServiceLimits()
    context = ServiceContext(client, limits, model_names=client.model_names)
    app = FastAPI(title="mmembed", description="Multimodal embeddings and cross-modal search with one LLM.")
    app.include_router(native_routes(context))
    app.include_router(openai_routes(context))

    @app.exception_handler(RequestRefused)
    def refused(request: Request, error: RequestRefused):
        return JSONResponse(
            error_body(request.url.path, error.status, error.message, _code(error), error.param), error.status
        )

    @app.exception_handler(HTTPException)
    def http_error(request: Request, error: HTTPException):
        return JSONResponse(
            error_body(request.url.path, error.status_code, str(error.detail)),
            error.status_code,
            headers=getattr(error, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, error: RequestValidationError):
        # The offending values are not echoed back (they can be megabytes); where and why is enough.
        problems = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "invalid")} for e in error.errors()[:20]]
        if request.url.path.startswith(OPENAI_PREFIX):
            message = "; ".join(f"{'.'.join(map(str, p['loc'][1:])) or 'body'}: {p['msg']}" for p in problems[:5])
            return JSONResponse(error_body(request.url.path, 400, f"invalid request: {message}"), 400)
        return JSONResponse({"detail": problems}, 422)

    return trusted_hosts(
        BearerAuth(BodyLimit(app, limits.max_request_bytes), api_key), allowed_hosts, bind_host, bool(api_key)
    )


def _code(error: RequestRefused) -> str | None:
    return {404: "model_not_found", 413: "request_too_large"}.get(error.status)
