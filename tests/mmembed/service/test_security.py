"""The service's walls: the API key, the Host check (DNS rebinding) and the refusal to serve the network unguarded."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from net import free_port

KEY = "a-long-random-service-key"


@pytest.mark.parametrize("route", ["/status", "/docs", "/openapi.json", "/files/00000000-0000-0000-0000-000000000000"])
def test_every_route_needs_the_key_when_one_is_set(served, route):
    http = served[2](api_key=KEY)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"}, {"Authorization": KEY}):
        response = http.get(route, headers=headers)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert http.get(route, headers={"Authorization": f"Bearer {KEY}"}).status_code in (200, 404)


def test_an_unauthenticated_body_is_not_read(served):
    http = served[2](api_key=KEY)
    response = http.post("/embed", json={"inputs": ["x" * 500_000]})  # over the body limit, but refused first
    assert response.status_code == 401


def test_only_this_services_host_names_are_served(served):
    _, _, make = served
    loopback = make(allowed_hosts=None)  # the default for a loopback bind
    for host in ("127.0.0.1:8765", "localhost", "[::1]:8765"):
        assert loopback.get("/status", headers={"Host": host}).status_code == 200
    for host in ("evil.example", "127.0.0.1.evil.example", ""):
        assert loopback.get("/status", headers={"Host": host}).status_code == 400
    assert (
        make(allowed_hosts=["search.example.org"]).get("/status", headers={"Host": "search.example.org"}).status_code
        == 200
    )
    unguarded_lan = make(allowed_hosts=None, bind_host="0.0.0.0")  # --insecure: still only the loopback names
    assert unguarded_lan.get("/status", headers={"Host": "192.0.2.7:8765"}).status_code == 400
    guarded_lan = make(allowed_hosts=None, bind_host="0.0.0.0", api_key=KEY)
    assert (
        guarded_lan.get("/status", headers={"Host": "192.0.2.7:8765", "Authorization": f"Bearer {KEY}"}).status_code
        == 200
    )


def run_serve(*args, env=None):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3]), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mmembed", "serve", "--port", str(free_port()), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_refuses_the_network_without_a_key(tmp_path):
    env = {"MMEMBED_SERVICE_KEY": ""}
    refused = run_serve("--host", "0.0.0.0", "--store", str(tmp_path / "s"), env=env)
    assert refused.returncode == 2 and "without a service key" in refused.stderr and "--insecure" in refused.stderr
    assert not (tmp_path / "s").exists()  # refused before anything was opened


@pytest.mark.parametrize("argument", ["--port=0", "--port=70000", "--max-items=0", "--max-request-mb=-1", "--max-k=x"])
def test_serve_checks_its_numbers(argument):
    result = run_serve(argument)
    name, value = argument.split("=")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"error: argument {name}: " in result.stderr
    assert f"{value}' is not" in result.stderr or f"{value} is not" in result.stderr
