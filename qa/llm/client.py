"""Talk to an OpenAI-compatible server with the official ``openai`` client.

Every call ends by ``QA_LLM_TIMEOUT``, whatever the server does: the reply is streamed in a
worker thread, which stops reading once the caller has given up (a server that talks for
ever is cut off at its next chunk). Library errors become ``LLMError`` / ``LLMTimeout`` with
one readable line; the API key never appears in one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from qa.errors import LLMError, LLMTimeout
from qa.llm.records import Endpoint, Reply

T = TypeVar("T")

PROBE_SECONDS = 5.0  # at most this long for the /models check of /ready and start-up
PROBE_TTL = 10.0  # a probe's result is reused this long
JSON_MODE_REFUSED = (400, 422)  # statuses a server gives for a response_format it lacks
MAX_MESSAGE = 200  # characters of a server's error message shown


@dataclass(frozen=True)
class Probe:
    """Whether the endpoint answers, and what to tell the user about it."""

    answers: bool
    detail: str


def public_url(url: str) -> str:
    """The URL without a user name or password in it."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class ChatClient:
    """Chat completions from one endpoint, with a JSON reply asked for when the server can.

    Args:
        endpoint: where the server is, the model, the key, the time and token limits.
    """

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.url = public_url(endpoint.url)
        self._client: Any = None
        self._json_mode: bool | None = None  # None: not tried yet on this server
        self._probe: tuple[float, Probe] | None = None
        self._making = threading.Lock()  # one library client, however many threads ask at once

    def complete(self, messages: list[dict[str, str]]) -> Reply:
        """The model's reply to ``messages``, within ``QA_LLM_TIMEOUT``.

        Raises:
            LLMTimeout: no complete reply in time.
            LLMError: the server cannot be reached, refuses, or answers with an error.
        """
        self._openai()  # the library loads before the clock starts: the limit is the server's
        return self._within(self.endpoint.timeout, lambda cancel: self._chat(messages, cancel),
                            "QA_LLM_TIMEOUT")

    def probe(self) -> Probe:
        """Whether the server answers ``GET /models`` and lists the model (cached briefly)."""
        now = time.monotonic()
        if self._probe is not None and now - self._probe[0] < PROBE_TTL:
            return self._probe[1]
        self._openai()
        try:
            served = self._within(min(PROBE_SECONDS, self.endpoint.timeout),
                                  lambda _: [m.id for m in self._openai().models.list()],
                                  "the check's limit")
        except LLMError as exc:
            result = Probe(False, str(exc))
        else:
            model = self.endpoint.model
            if not served or model in served:
                result = Probe(True, f"the model server at {self.url} answers (model {model})")
            else:
                listed = ", ".join(served[:5]) + (", ..." if len(served) > 5 else "")
                result = Probe(True, f"the model server at {self.url} answers but does not "
                               f"list QA_LLM_MODEL={model!r} (it lists: {listed})")
        self._probe = (now, result)
        return result

    # -- the call --------------------------------------------------------------------------

    def _openai(self) -> Any:
        with self._making:
            if self._client is None:
                self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        import openai  # deferred: the client library takes a while to import

        return openai.OpenAI(
            base_url=self.endpoint.url,
            api_key=self.endpoint.api_key or "no-key",
            timeout=self.endpoint.timeout,  # per read; the whole reply is bounded in _within
            max_retries=0,
        )

    def _chat(self, messages: list[dict[str, str]], cancel: threading.Event) -> Reply:
        import openai

        json_mode = self._json_mode is not False
        try:
            reply = self._stream(messages, json_mode, cancel)
        except openai.APIStatusError as exc:
            if not (json_mode and self._json_mode is None
                    and exc.status_code in JSON_MODE_REFUSED):
                raise
            # The server may not know response_format: ask once more without it.
            reply = self._stream(messages, False, cancel)
            self._json_mode = False
            return reply
        if json_mode:
            self._json_mode = True
        return reply

    def _stream(self, messages: list[dict[str, str]], json_mode: bool,
                cancel: threading.Event) -> Reply:
        extra: dict[str, Any] = {"response_format": {"type": "json_object"}} if json_mode else {}
        stream = self._openai().chat.completions.create(
            model=self.endpoint.model, messages=messages, max_tokens=self.endpoint.max_tokens,
            temperature=0, stream=True, **extra,
        )
        parts: list[str] = []
        finish: str | None = None
        try:
            for chunk in stream:
                if cancel.is_set():  # the caller gave up: stop reading
                    break
                for choice in chunk.choices or ():
                    if choice.delta is not None and choice.delta.content:
                        parts.append(choice.delta.content)
                    finish = choice.finish_reason or finish
        finally:
            stream.close()
        if not parts and finish is None and not cancel.is_set():
            # A server that fails after its 200 has no status left to send: it just stops
            # (llama-cpp-python does so for a prompt longer than its window).
            raise LLMError(f"the model server at {self.url} ended its reply without a word "
                           "or a finish reason; its log says why (a prompt longer than the "
                           "server's window does this: is QA_LLM_CONTEXT_TOKENS the server's "
                           "context size?)")
        return Reply("".join(parts), finish)

    def _within(self, seconds: float, call: Callable[[threading.Event], T], limit: str) -> T:
        """``call`` run in a worker thread; LLMTimeout when it has not returned in time."""
        outcome: dict[str, Any] = {}
        cancel = threading.Event()

        def work() -> None:
            try:
                outcome["value"] = call(cancel)
            except BaseException as exc:  # handed to the caller's thread below
                outcome["error"] = exc

        worker = threading.Thread(target=work, name="qa-llm", daemon=True)
        worker.start()
        worker.join(seconds)
        if worker.is_alive():
            cancel.set()
            raise LLMTimeout(f"the model server at {self.url} did not reply within "
                             f"{seconds:g} s ({limit})")
        if "error" in outcome:
            raise self._translate(outcome["error"]) from None
        value: T = outcome["value"]
        return value

    # -- errors ----------------------------------------------------------------------------

    def _translate(self, exc: BaseException) -> LLMError:
        """One line for a library error, the API key removed."""
        import openai

        where = f"the model server at {self.url}"
        model = self.endpoint.model
        if isinstance(exc, LLMError):
            return exc
        if isinstance(exc, openai.APITimeoutError):
            return LLMTimeout(f"{where} did not reply within {self.endpoint.timeout:g} s "
                              "(QA_LLM_TIMEOUT)")
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            return LLMError(self.redact(f"{where} cannot be reached: {cause}"))
        if isinstance(exc, openai.APIStatusError):
            status, said = exc.status_code, self._server_message(exc)
            hint = ""
            if status in (401, 403):
                hint = " (check QA_LLM_API_KEY)"
            elif status == 404:
                hint = (f" (is QA_LLM_MODEL={model!r} a model it serves, and does QA_LLM_URL "
                        "end in the API's base path, e.g. /v1?)")
            return LLMError(self.redact(f"{where} answered {status}: {said}{hint}"))
        if isinstance(exc, openai.APIError):
            return LLMError(self.redact(f"{where} reported an error: {exc.message}"))
        return LLMError(self.redact(f"{where} sent a reply that cannot be read: "
                                    f"{type(exc).__name__}: {exc}"))

    def _server_message(self, exc: Any) -> str:
        body = exc.body
        error = body.get("error", body) if isinstance(body, dict) else body
        if isinstance(error, dict):
            error = error.get("message") or error
        text = str(error) if error else exc.response.text or exc.response.reason_phrase
        text = " ".join(str(text).split())
        return text[:MAX_MESSAGE] + ("…" if len(text) > MAX_MESSAGE else "")

    def redact(self, text: str) -> str:
        """``text`` without the API key (nor the URL's password) in it."""
        for secret in (self.endpoint.api_key, urlsplit(self.endpoint.url).password):
            if secret and len(secret) >= 4:
                text = text.replace(secret, "[redacted]")
        return text
