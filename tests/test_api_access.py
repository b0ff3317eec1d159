"""Access control at the HTTP edge: API key, rate limit, CORS, and the page's own safety."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.ratelimit import RateLimiter, retry_after_header
from tests.helpers.servers import local_client

FILES = {
    "alliance.txt": "1 Alliance\n\nThe Extended Deterrence Dialogue was established in 2010.\n"
}
KEY = "correct horse battery staple"
STATIC = Path(__file__).resolve().parents[1] / "api" / "static"


def app_client(make_service: Callable[..., Any], **overrides: Any) -> TestClient:
    service = make_service(FILES, **overrides)
    service.open()
    return local_client(create_app(service.settings, service))


PROTECTED = [
    ("GET", "/ready"),
    ("POST", "/ask"),
    ("GET", "/search?q=deterrence"),
    ("GET", "/passages/0000"),
    ("GET", "/documents"),
    ("GET", "/documents/alliance.txt"),
    ("POST", "/reload"),
]


# -- API key -----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_route_but_health_needs_the_key(
    make_service: Callable[..., Any], method: str, path: str
) -> None:
    client = app_client(make_service, api_key=KEY)
    body = {"question": "When was the EDD established?"} if method == "POST" else None
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"}):
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert "API key" in response.json()["detail"]
    response = client.request(method, path, json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code in (200, 404)  # 404: the made-up passage id


def test_health_and_the_page_need_no_key(make_service: Callable[..., Any]) -> None:
    client = app_client(make_service, api_key=KEY)
    for path in ("/health", "/", "/static/app.js", "/static/style.css"):
        assert client.get(path).status_code == 200, path


def test_without_a_configured_key_no_header_is_needed(make_service: Callable[..., Any]) -> None:
    client = app_client(make_service)
    assert (
        client.post("/ask", json={"question": "When was the EDD established?"}).status_code == 200
    )


def test_bad_input_with_the_right_key_is_still_a_clear_4xx(
    make_service: Callable[..., Any],
) -> None:
    client = app_client(make_service, api_key=KEY)
    response = client.post(
        "/ask", json={"question": " "}, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "the question is empty"


# -- rate limit --------------------------------------------------------------------------


def test_rate_limit_gives_429_with_retry_after(make_service: Callable[..., Any]) -> None:
    client = app_client(make_service, rate_limit_per_minute=3)
    for _ in range(3):
        assert client.get("/documents").status_code == 200
    response = client.get("/documents")
    assert response.status_code == 429
    assert "too many requests" in response.json()["detail"]
    assert 1 <= int(response.headers["retry-after"]) <= 20  # one token refills in 20 s
    assert client.post("/ask", json={"question": "x"}).status_code == 429
    assert client.get("/health").status_code == 200  # liveness is never limited


def test_rate_limit_off_by_default(make_service: Callable[..., Any]) -> None:
    client = app_client(make_service)
    assert all(client.get("/documents").status_code == 200 for _ in range(30))


def test_token_bucket_refills_and_keeps_clients_apart() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == pytest.approx(30.0)  # 2 per minute: one every 30 s
    assert limiter.acquire("b") == 0.0  # another client has its own bucket
    now[0] = 15.0
    assert limiter.acquire("a") == pytest.approx(15.0)
    now[0] = 30.0
    assert limiter.acquire("a") == 0.0
    assert retry_after_header(0.2) == "1" and retry_after_header(14.01) == "15"


def test_token_bucket_memory_is_bounded() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0], max_clients=100)
    for n in range(1000):
        now[0] += 0.001
        limiter.acquire(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._buckets) <= 100


def test_rate_limiter_refuses_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(0)


# -- CORS --------------------------------------------------------------------------------


def test_no_cors_headers_by_default(make_service: Callable[..., Any]) -> None:
    client = app_client(make_service)
    response = client.get("/documents", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/ask",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_only_for_configured_origins(make_service: Callable[..., Any]) -> None:
    allowed = "https://intranet.example"
    client = app_client(make_service, cors_origins=[allowed], api_key=KEY)
    auth = {"Authorization": f"Bearer {KEY}"}
    response = client.get("/documents", headers={"Origin": allowed, **auth})
    assert response.headers["access-control-allow-origin"] == allowed
    response = client.get("/documents", headers={"Origin": "https://evil.example", **auth})
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/ask",
        headers={
            "Origin": allowed,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200  # preflights carry no key and must not need one
    assert preflight.headers["access-control-allow-origin"] == allowed
    # Errors carry the header too, so the calling page can read the message.
    response = client.get("/documents", headers={"Origin": allowed})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == allowed


# -- the page ----------------------------------------------------------------------------


def test_page_is_served_with_a_strict_content_security_policy(
    make_service: Callable[..., Any],
) -> None:
    client = app_client(make_service)
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert '<textarea id="question"' in response.text
    assert (
        client.get("/static/app.js")
        .headers["content-type"]
        .startswith(("text/javascript", "application/javascript"))
    )


def test_page_assets_load_nothing_from_elsewhere() -> None:
    for asset in ("index.html", "app.js", "style.css"):
        text = (STATIC / asset).read_text("utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), asset


def test_page_script_never_writes_markup() -> None:
    script = (STATIC / "app.js").read_text("utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink


def test_static_files_cannot_escape_their_folder(make_service: Callable[..., Any]) -> None:
    client = app_client(make_service)
    for path in ("/static/../app.py", "/static/..%2Fapp.py", "/static/%2e%2e/routes.py"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "create_app" not in response.text
