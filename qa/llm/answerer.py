"""The model answerer: pack the passages, ask the model, read its JSON, check every quote.

Only a verified answer replaces the extractive reader's; otherwise the reader's answer is
returned with the reason the model's could not be shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from qa.errors import LLMBadReply
from qa.llm.client import ChatClient, Probe
from qa.llm.parse import parse_reply, whole_then_padding
from qa.llm.prompt import messages, pack, prompt_budget
from qa.llm.records import Endpoint
from qa.llm.verify import PageSpan, check
from qa.records import Answer, ModelCheck, Passage

UNVERIFIED = "the model's answer could not be checked against the sources"


class LLMAnswerer:
    """Answers written by the model at ``endpoint``, verified against the passages.

    Args:
        endpoint: the server, model and limits (``Settings.llm_endpoint``).
        client: the chat client (one is made for the endpoint when omitted).
    """

    def __init__(self, endpoint: Endpoint, client: ChatClient | None = None) -> None:
        self.endpoint = endpoint
        self.client = client or ChatClient(endpoint)

    def answer(
        self,
        question: str,
        passages: Sequence[Passage],
        sentence_ends: Sequence[Sequence[int]],
        extractive: Answer,
        pages: PageSpan,
    ) -> Answer:
        """The model's answer if it checks out, else ``extractive`` with the reason.

        Args:
            question: the question (cleaned).
            passages: the retrieved passages, best first.
            sentence_ends: for each passage, offsets in its text just after each sentence.
            extractive: the extractive reader's answer to the same question.
            pages: the PDF pages of a document span.

        Raises:
            LLMTimeout: the model did not reply in time.
            LLMBadReply: the reply was cut at the answer budget or is not the JSON asked for.
            LLMError: the server cannot be reached, refuses, or answers with an error.
        """
        sources = pack(question, passages, sentence_ends, prompt_budget(self.endpoint))
        reply = self.client.complete(messages(question, sources))
        if reply.finish_reason == "length" and not whole_then_padding(reply.text):
            raise LLMBadReply(f"the model's reply was cut at QA_LLM_MAX_TOKENS "
                           f"({self.endpoint.max_tokens} tokens) before it ended")
        written = parse_reply(reply.text)
        model = self.endpoint.model
        if written.answer is None:
            return replace(extractive, answer=None, abstained=True, confidence=None,
                           citations=[], answer_start=None, answer_end=None,
                           answerer="llm", llm=ModelCheck(model, "abstained"))
        verdict = check(written, sources, pages)
        if not verdict.verified:
            return replace(extractive, answerer="llm",
                           llm=ModelCheck(model, "unverified", f"{UNVERIFIED}: {verdict.reason}"))
        return replace(extractive, answer=written.answer, abstained=False, confidence=None,
                       citations=list(verdict.citations), answer_start=None, answer_end=None,
                       answerer="llm", llm=ModelCheck(model, "verified"))

    def probe(self) -> Probe:
        """Whether the endpoint answers (see ``ChatClient.probe``)."""
        return self.client.probe()
