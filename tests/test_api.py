"""The HTTP API over a small corpus with the fast fake embedder: every endpoint, every bad input."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.errors import CorpusError, IndexLocked, InvalidQuestion, NotFound
from tests.helpers.servers import local_client

ALLIANCE = """\
1 The Japan-U.S. Alliance

(1) Extended deterrence

The Extended Deterrence Dialogue (EDD) was established in 2010. It meets twice a year to \
discuss regional security and nuclear policy.

(2) Host nation support

Japan provides host nation support for U.S. forces stationed in Okinawa and elsewhere.
"""

SUMMIT = """\
2 Summit diplomacy

The leaders met in Washington in April 2024 🌸 and issued a joint statement on defense \
cooperation. 日米同盟は地域の平和の礎である。
"""

FILES = {"alliance.txt": ALLIANCE, "notes/summit.md": SUMMIT}
QUESTION = "When was the Extended Deterrence Dialogue established?"


@pytest.fixture()
def service(make_service: Callable[..., Any]) -> Any:
    """An opened service over the small corpus."""
    svc = make_service(FILES)
    svc.open()
    return svc


@pytest.fixture()
def client(service: Any) -> Iterator[TestClient]:
    with local_client(create_app(service.settings, service)) as test_client:
        yield test_client


def assert_client_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """A 4xx JSON error body with a readable message, no stack trace."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in response.text
    return body


def wait_ready(client: TestClient, timeout: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/ready")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


# -- status ------------------------------------------------------------------------------


def test_health_is_always_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_reports_the_loaded_index(client: TestClient, service: Any) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "documents": 2,
        "passages": len(service.loaded.index.chunks),
        "llm": None,  # no model endpoint configured
    }


def test_ready_is_503_before_the_service_is_opened(make_service: Callable[..., Any]) -> None:
    service = make_service(FILES)
    client = local_client(create_app(service.settings, service))  # no lifespan: nothing loads
    assert "loading" in assert_client_error(client.get("/ready"), 503)["detail"]
    assert client.post("/ask", json={"question": QUESTION}).status_code == 503
    assert client.get("/health").status_code == 200
    assert not service.ready  # a request never triggers loading by itself


def test_lifespan_loads_in_a_worker_thread_while_health_answers(
    make_service: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(FILES)
    release = threading.Event()
    threads: list[str] = []
    real_open = service.open

    def slow_open(*args: Any, **kwargs: Any) -> None:
        threads.append(threading.current_thread().name)
        release.wait(30)
        real_open(*args, **kwargs)

    monkeypatch.setattr(service, "open", slow_open)
    with local_client(create_app(service.settings, service)) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 503
        assert client.post("/ask", json={"question": QUESTION}).status_code == 503
        release.set()
        assert wait_ready(client).status_code == 200
        assert client.post("/ask", json={"question": QUESTION}).status_code == 200
    assert threads and threads[0] != threading.main_thread().name


def test_ready_says_why_loading_failed(
    make_service: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(FILES)

    def broken_open(*args: Any, **kwargs: Any) -> None:
        raise CorpusError("corpus folder not found: /nowhere")

    monkeypatch.setattr(service, "open", broken_open)
    with local_client(create_app(service.settings, service)) as client:
        deadline = time.monotonic() + 30
        while "could not be loaded" not in client.get("/ready").text:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        body = assert_client_error(client.get("/ready"), 503)
        assert "corpus folder not found" in body["detail"]


# -- /ask --------------------------------------------------------------------------------


def test_ask_returns_the_same_object_as_the_cli_json(client: TestClient, service: Any) -> None:
    response = client.post("/ask", json={"question": QUESTION, "k": 3})
    assert response.status_code == 200
    expected = json.loads(json.dumps(service.ask(QUESTION, k=3).to_dict()))
    assert response.json() == expected
    body = response.json()
    assert set(body) == {"question", "answer", "abstained", "confidence", "citations", "passages",
                         "index_version", "answerer", "llm"}
    assert body["answerer"] == "extractive" and body["llm"] is None
    assert all(c["source"] == "reader" for c in body["citations"])
    assert len(body["passages"]) <= 3


def test_ask_citations_lie_inside_their_passages(client: TestClient, service: Any) -> None:
    body = client.post("/ask", json={"question": QUESTION}).json()
    assert not body["abstained"] and body["citations"]
    passages = {p["chunk_id"]: p for p in body["passages"]}
    for citation in body["citations"]:
        text = service.document(citation["doc_id"])
        assert text[citation["start"] : citation["end"]] == citation["quote"]
        passage = passages.get(citation["chunk_id"])
        if passage is not None:
            assert passage["start"] <= citation["start"] <= citation["end"] <= passage["end"]


def test_ask_abstains_plainly(make_service: Callable[..., Any]) -> None:
    service = make_service(FILES, abstain_threshold=1.0)
    service.open()
    client = local_client(create_app(service.settings, service))
    body = client.post("/ask", json={"question": "What is the capital of Peru?"}).json()
    assert body["abstained"] is True
    assert body["answer"] is None and body["citations"] == []
    assert body["passages"], "an abstention still lists the nearest passages"


@pytest.mark.parametrize(
    "question",
    [
        "日米拡大抑止協議はいつ設立されましたか？",
        "When did the leaders meet 🌸🇯🇵?",
        "متى تأسس الحوار؟",
        "Когда был создан диалог?",
        "<script>alert('x')</script> When was the EDD established?",
    ],
)
def test_questions_in_any_script_work(client: TestClient, question: str) -> None:
    response = client.post("/ask", json={"question": question})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["question"] == question


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"question": ""}, "empty"),
        ({"question": "   \n\t "}, "empty"),
        ({"question": "x" * 1001}, "too long"),
        ({"question": QUESTION, "k": 0}, "k"),
        ({"question": QUESTION, "k": 51}, "k"),
        ({"question": QUESTION, "k": -3}, "k"),
        ({"question": 42}, "question"),
        ({"question": None}, "question"),
        ({"question": ["a", "b"]}, "question"),
        ({"question": {"text": "a"}}, "question"),
        ({"question": QUESTION, "k": "5"}, "k"),
        ({"question": QUESTION, "k": 2.5}, "k"),
        ({"question": QUESTION, "k": True}, "k"),
        ({"question": QUESTION, "k": None}, "k"),
        ({}, "question"),
        ({"question": QUESTION, "mode": "dense"}, "mode"),
        ([QUESTION], "body"),
        ("a question", "body"),
    ],
)
def test_ask_refuses_bad_bodies_with_422(client: TestClient, body: Any, fragment: str) -> None:
    error = assert_client_error(client.post("/ask", json=body), 422)
    assert fragment in error["detail"]


def test_a_lone_surrogate_is_a_422_not_a_500(client: TestClient) -> None:
    # Valid JSON, but not encodable as UTF-8: found by the schema fuzzer.
    response = client.post(
        "/ask",
        content=b'{"question": "\\ud800 when"}',
        headers={"Content-Type": "application/json"},
    )
    assert "invalid Unicode" in assert_client_error(response, 422)["detail"]


def test_ask_accepts_k_at_both_bounds(client: TestClient) -> None:
    for k in (1, 50, 5.0):  # 5.0 is an integer to JSON Schema
        assert client.post("/ask", json={"question": QUESTION, "k": k}).status_code == 200


def test_the_length_cap_comes_from_the_settings(make_service: Callable[..., Any]) -> None:
    service = make_service(FILES, max_question_chars=40)
    service.open()
    client = local_client(create_app(service.settings, service))
    assert client.post("/ask", json={"question": "e" * 40}).status_code == 200
    error = assert_client_error(client.post("/ask", json={"question": "e" * 41}), 422)
    assert "the limit is 40" in error["detail"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"question": "When', "application/json"),
        (b"{'question': 'x'}", "application/json"),
        (b'{"question": "x",}', "application/json"),
        (b"\xff\xfe not utf-8", "application/json"),
    ],
)
def test_malformed_json_is_400(client: TestClient, content: bytes, content_type: str) -> None:
    response = client.post("/ask", content=content, headers={"Content-Type": content_type})
    assert_client_error(response, 400)


def test_missing_or_non_json_body_is_a_client_error(client: TestClient) -> None:
    assert_client_error(client.post("/ask"), 422)
    response = client.post("/ask", content=b"question=x", headers={"Content-Type": "text/plain"})
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/json")


def test_bodies_over_the_cap_are_413(client: TestClient, service: Any) -> None:
    cap = service.settings.max_body_bytes
    big = json.dumps({"question": "x" * cap})
    error = assert_client_error(
        client.post("/ask", content=big, headers={"Content-Type": "application/json"}), 413
    )
    assert str(cap) in error["detail"]


def test_a_streamed_body_over_the_cap_is_413_whatever_it_declares(service: Any) -> None:
    app = create_app(service.settings, service)
    cap = service.settings.max_body_bytes
    chunk = b"x" * (cap // 2 + 1)
    # No Content-Length (chunked upload), then a Content-Length that understates the body.
    assert asgi_post(app, [chunk, chunk], declared=None)[0] == 413
    assert asgi_post(app, [chunk, chunk], declared=10)[0] == 413
    assert asgi_post(app, [b"{}"], declared="12abc")[0] == 400
    status, body = asgi_post(app, [b'{"question": ', b'"When was the EDD established?"}'])
    assert status == 200, body


def test_a_request_that_disconnects_mid_body_gets_no_response(service: Any) -> None:
    app = create_app(service.settings, service)
    status, _ = asgi_post(app, [b'{"question": '], more_after_last=True)
    assert status is None


# -- /search, /passages, /documents ------------------------------------------------------


def test_search_returns_ranked_passages(client: TestClient, service: Any) -> None:
    response = client.get("/search", params={"q": "Extended Deterrence Dialogue", "k": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "Extended Deterrence Dialogue"
    assert 1 <= len(body["passages"]) <= 2
    scores = [p["score"] for p in body["passages"]]
    assert scores == sorted(scores, reverse=True)
    for p in body["passages"]:
        assert service.document(p["doc_id"])[p["start"] : p["end"]] == p["text"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 1001},
        {"q": "EDD", "k": 0},
        {"q": "EDD", "k": 51},
        {"q": "EDD", "k": "many"},
        {"q": "EDD", "k": "1.5"},
    ],
)
def test_search_refuses_bad_queries(client: TestClient, params: dict[str, Any]) -> None:
    assert_client_error(client.get("/search", params=params), 422)


def test_passage_by_id(client: TestClient, service: Any) -> None:
    chunk = service.loaded.index.chunks[0]
    response = client.get(f"/passages/{chunk.chunk_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["chunk_id"] == chunk.chunk_id
    assert body["section"] == chunk.section_path
    assert service.document(body["doc_id"])[body["start"] : body["end"]] == body["text"]


@pytest.mark.parametrize("chunk_id", ["0000000000000000", "nope", "%00", "..%2F..%2Fetc"])
def test_unknown_passage_is_404(client: TestClient, chunk_id: str) -> None:
    assert_client_error(client.get(f"/passages/{chunk_id}"), 404)


def test_documents_list_and_text(client: TestClient, service: Any) -> None:
    assert client.get("/documents").json() == {"documents": ["alliance.txt", "notes/summit.md"]}
    for doc_id, text in (("alliance.txt", ALLIANCE), ("notes/summit.md", SUMMIT)):
        response = client.get(f"/documents/{doc_id}")
        assert response.status_code == 200
        body = response.json()
        # the version served is the index version answers carry (issue 24, finding 13)
        assert body.pop("version") == service.loaded.index.version.name
        assert body == {"doc_id": doc_id, "text": text, "kind": "text", "pages": None}


def test_document_ids_with_spaces_and_non_latin_names(make_service: Callable[..., Any]) -> None:
    service = make_service({"資料/日米 同盟.md": SUMMIT})
    service.open()
    client = local_client(create_app(service.settings, service))
    (doc_id,) = client.get("/documents").json()["documents"]
    assert doc_id == "資料/日米 同盟.md"
    response = client.get("/documents/" + quote(doc_id))
    assert response.status_code == 200
    assert response.json()["text"] == SUMMIT


def test_a_file_added_to_the_corpus_but_not_indexed_is_not_served(
    client: TestClient, service: Any
) -> None:
    (service.settings.corpus_dir / "later.txt").write_text("secret", encoding="utf-8")
    assert_client_error(client.get("/documents/later.txt"), 404)


TRAVERSALS = [
    "../../../../etc/passwd",
    "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "%252e%252e%252fetc%252fpasswd",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "notes/../../../etc/passwd",
    "notes/..%2F..%2F..%2Fetc%2Fpasswd",
    "..\\..\\..\\etc\\passwd",
    "....//....//etc/passwd",
    "alliance.txt/../../index",
    "alliance.txt%00.txt",
    "~/.bashrc",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_outside_the_corpus_are_refused(client: TestClient, path: str) -> None:
    response = client.get(f"/documents/{path}")
    assert 400 <= response.status_code < 500
    assert "root:" not in response.text


@pytest.mark.parametrize(
    "doc_id",
    ["../../../../etc/passwd", "/etc/passwd", "notes/../alliance.txt", "./alliance.txt"],
)
def test_traversal_reaches_the_route_and_is_404(service: Any, doc_id: str) -> None:
    # Sent raw, so no client-side URL normalisation hides the attempt from the route.
    app = create_app(service.settings, service)
    status, body = asgi_request(app, "GET", "/documents/" + doc_id)
    assert status == 404
    assert b"root:" not in body


# -- /reload -----------------------------------------------------------------------------


def test_reload_picks_up_a_changed_corpus(client: TestClient, service: Any) -> None:
    assert client.post("/reload").json()["reloaded"] is False
    (service.settings.corpus_dir / "new.txt").write_text(
        "3 Space\n\nThe space cooperation agreement entered into force in 2023.\n", "utf-8"
    )
    body = client.post("/reload").json()
    assert body["reloaded"] is True and body["documents"] == 3
    assert "new.txt" in client.get("/documents").json()["documents"]
    assert client.post("/reload").json()["reloaded"] is False


def test_ask_keeps_answering_during_a_reload(
    client: TestClient, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    real_reload = service.reload

    def slow_reload() -> bool:
        started.set()
        release.wait(30)
        return bool(real_reload())

    monkeypatch.setattr(service, "reload", slow_reload)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(client.post, "/reload")
        try:
            assert started.wait(30)
            assert client.post("/ask", json={"question": QUESTION}).status_code == 200
            assert_client_error(client.post("/reload"), 409)
        finally:
            release.set()
        assert pending.result(timeout=60).status_code == 200


# -- errors at the edge ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidQuestion("the question is empty"), 422),
        (NotFound("no passage with id 'x'"), 404),
        (IndexLocked("another process is building the index"), 503),
        (CorpusError("corpus folder not found"), 503),
    ],
)
def test_core_errors_map_to_statuses(
    client: TestClient, service: Any, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    def failing(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(service, "ask", failing)
    body = assert_client_error(client.post("/ask", json={"question": QUESTION}), status)
    assert body["detail"] == str(error)


def test_an_unexpected_error_is_a_json_500_without_details(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "ask", failing)
    client = local_client(create_app(service.settings, service), raise_server_exceptions=False)
    response = client.post("/ask", json={"question": QUESTION})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; the server log has the details"}
    assert "secret internals" not in response.text


def test_unknown_routes_and_methods_are_json(client: TestClient) -> None:
    assert_client_error(client.get("/no/such/route"), 404)
    assert_client_error(client.get("/ask"), 405)
    assert_client_error(client.delete("/documents/alliance.txt"), 405)


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    for path in ("/ask", "/search", "/passages/{chunk_id}", "/documents/{doc_id}", "/ready"):
        assert path in schema["paths"]


# -- raw ASGI helpers (no client-side normalisation, full control of the body stream) -----


def asgi_request(
    app: Any,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    chunks: list[bytes] | None = None,
    more_after_last: bool = False,
) -> tuple[int | None, bytes]:
    """Call the ASGI app directly; returns the status (None if it never answered) and body."""
    parts = chunks if chunks is not None else [b""]
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": c, "more_body": more_after_last or i < len(parts) - 1}
        for i, c in enumerate(parts)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers or [],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def run() -> None:
        await app(scope, receive, send)

    anyio.run(run)
    status = next((m["status"] for m in sent if m["type"] == "http.response.start"), None)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


def asgi_post(
    app: Any,
    chunks: list[bytes],
    declared: int | str | None = "auto",
    more_after_last: bool = False,
) -> tuple[int | None, bytes]:
    """POST /ask with the body sent in ``chunks`` and the given Content-Length."""
    headers = [(b"content-type", b"application/json")]
    if declared == "auto":
        declared = sum(len(c) for c in chunks)
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    return asgi_request(app, "POST", "/ask", headers, chunks, more_after_last)
