"""A scripted OpenAI-compatible server on loopback, for the model answerer's tests.

It speaks the two routes the tool uses -- ``GET /v1/models`` and ``POST /v1/chat/completions``
(streamed as server-sent events when asked, as the tool does) -- and does what the test set
last: reply with given content, fail with a status, stall, or stream for ever. Every request
body is kept, so a test can read the prompt the tool sent.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "fake-model"

Content = str | Callable[[str], str]  # a reply, or a reply made from the user prompt


@dataclass
class Behaviour:
    """What the next chat request gets."""

    kind: str = "content"  # content | status | stall | endless | no_json_mode | empty
    content: Content = '{"answer": null}'
    finish_reason: str = "stop"
    status: int = 500
    error: str = "internal error"
    seconds: float = 0.0


@dataclass
class FakeLLM:
    """The server's script and what it received."""

    port: int = 0
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: list[dict[str, Any]] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() of each request
    models_status: int = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def set(self, **kwargs: Any) -> None:
        """Script the next replies (fields of ``Behaviour``) and forget earlier requests."""
        self.behaviour = Behaviour(**kwargs)
        self.requests.clear()
        self.arrivals.clear()

    @property
    def prompt(self) -> str:
        """The user message of the last chat request."""
        messages = self.requests[-1]["messages"]
        return str(next(m["content"] for m in messages if m["role"] == "user"))


def passage_number(prompt: str, words: str) -> int:
    """The number of the prompt's passage that holds ``words`` (AssertionError if none)."""
    for match in re.finditer(r"^\[(\d+)\] document: [^\n]*\n(.*?)(?=\n\n\[\d+\] document: |\n\nQuestion: )",
                             prompt, flags=re.M | re.S):
        if words in match.group(2):
            return int(match.group(1))
    raise AssertionError(f"no passage of the prompt holds {words!r}")


def answer_json(answer: str | None, *quotes: tuple[int, str]) -> str:
    """The reply the tool asks for."""
    return json.dumps({"answer": answer,
                       "quotes": [{"passage": n, "text": text} for n, text in quotes]})


def quoting(answer: str, *words: str) -> Callable[[str], str]:
    """A reply that quotes each of ``words`` from the passage of the prompt that holds it."""
    return lambda prompt: answer_json(answer, *((passage_number(prompt, w), w) for w in words))


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/v1/models":
                self._json(404, {"error": {"message": "no such route"}})
            elif fake.models_status != 200:
                self._json(fake.models_status, {"error": {"message": "models unavailable"}})
            else:
                self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            fake.requests.append(body)
            fake.arrivals.append(time.monotonic())
            b = fake.behaviour
            if b.kind == "status":
                self._json(b.status, {"error": {"message": b.error}})
                return
            if b.kind == "no_json_mode" and "response_format" in body:
                self._json(400, {"error": {"message": "response_format is not supported"}})
                return
            if body.get("model") != MODEL:
                self._json(404, {"error": {"message": f"model '{body.get('model')}' not found"}})
                return
            if b.kind == "stall":
                time.sleep(b.seconds)
            content = b.content(_user(body)) if callable(b.content) else b.content
            if not body.get("stream"):
                self._json(200, _completion(content, b.finish_reason))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                if b.kind == "empty":  # a failure after the 200: the stream just ends
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if b.kind == "endless":
                    while True:
                        self._event(_chunk("la ", None))
                        time.sleep(0.05)
                for n in range(0, len(content), 7):
                    self._event(_chunk(content[n:n + 7], None))
                self._event(_chunk("", b.finish_reason))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client hung up
            self.close_connection = True

        def _event(self, body: dict[str, Any]) -> None:
            self.wfile.write(b"data: " + json.dumps(body).encode() + b"\n\n")
            self.wfile.flush()

    return Handler


def _user(body: dict[str, Any]) -> str:
    return str(next(m["content"] for m in body["messages"] if m["role"] == "user"))


def _chunk(text: str, finish: str | None) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "delta": {"content": text} if text else {},
                         "finish_reason": finish}]}


def _completion(text: str, finish: str) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": finish}]}


@contextmanager
def fake_llm_server() -> Iterator[FakeLLM]:
    """Run a FakeLLM on a free port of 127.0.0.1 until the block ends."""
    fake = FakeLLM()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="fake-llm", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
