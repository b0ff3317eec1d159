"""Request and response bodies of the HTTP API; they mirror ``qa.records``.

``AnswerOut`` is exactly the object ``qa ask --json`` prints (``Answer.to_dict()``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

MIN_K = 1
MAX_K = 50


def _whole_number(value: Any) -> Any:
    # JSON Schema counts 5.0 as an integer; strict mode would not. Strings and booleans
    # still fail the strict check.
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


class AskRequest(BaseModel):
    """The body of ``POST /ask``.

    Emptiness, content (a letter or digit) and the length cap are checked by
    ``qa.questions.check_question`` (the cap is a setting), so the CLI and the API refuse the
    same questions with the same message; the app's OpenAPI schema documents them all (see
    ``api.app``).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(description="The question in plain language, any script.")
    k: WholeNumber = Field(5, ge=MIN_K, le=MAX_K, description="How many passages to return.")
    answerer: Literal["extractive", "llm"] = Field(
        "extractive",
        description="Who writes the answer: the extractive reader, or the model of QA_LLM_URL "
        "(409 when none is configured). The model's answer is returned only when every quote "
        "is found in the passage it names and every number and name is quoted; otherwise the "
        "reader's answer comes back with `llm.reason`.",
    )

    @field_validator("question")
    @classmethod
    def _encodable(cls, value: str) -> str:
        # JSON allows lone surrogates ("\ud800"); they cannot be written back as UTF-8.
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the question contains invalid Unicode (a lone surrogate)") from None
        return value


class PassageOut(BaseModel):
    """A retrieved chunk; ``text`` equals the document's ``text[start:end]``."""

    doc_id: str
    chunk_id: str
    section: str = Field(description="The section path, outermost first, joined by ' › '.")
    start: int = Field(ge=0, description="Start offset in the document (Unicode code points).")
    end: int = Field(ge=0, description="End offset in the document (exclusive).")
    text: str
    score: float
    page_start: int | None = Field(
        None, ge=1, description="First page of a PDF, as a viewer counts (null: no pages)."
    )
    page_end: int | None = Field(None, ge=1, description="Last page of a PDF (null: no pages).")


class CitationOut(BaseModel):
    """A quote supporting the answer; ``quote`` equals the document's ``text[start:end]``.

    Its ``[start, end]`` lies inside the ``[start, end]`` of the passage with the same
    ``chunk_id``.
    """

    doc_id: str
    chunk_id: str
    section: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    quote: str
    score: float
    page_start: int | None = Field(
        None, ge=1, description="First page of a PDF, as a viewer counts (null: no pages)."
    )
    page_end: int | None = Field(None, ge=1, description="Last page of a PDF (null: no pages).")
    source: Literal["reader", "model"] = Field(
        "reader", description="'reader': cut by the extractive reader; 'model': quoted by the "
        "model and found, exactly, in the passage it named."
    )


class ModelCheckOut(BaseModel):
    """What became of the model's answer (answerer 'llm')."""

    model: str
    outcome: Literal["verified", "unverified", "abstained"] = Field(
        description="'verified': it is the answer; 'abstained': the model found no answer; "
        "'unverified': not shown (see reason), the reader's answer is given instead."
    )
    reason: str | None = Field(None, description="Why the model's answer is not shown.")


class AnswerOut(BaseModel):
    """The answer to a question: the same object as ``qa ask --json``."""

    question: str
    answer: str | None = Field(description="The short answer; null when abstaining.")
    abstained: bool = Field(description="True when the sources do not contain the answer.")
    confidence: float | None = Field(
        ge=0.0, le=1.0, description="The reader's calibrated confidence; null for the model's "
        "answer or abstention (not calibrated)."
    )
    citations: list[CitationOut]
    passages: list[PassageOut] = Field(description="The nearest passages, best first.")
    index_version: str | None = Field(
        None, description="The index version answered from: GET /documents/{id}?version= "
        "serves its texts while it is one of the last few kept (404 after)."
    )
    answerer: Literal["extractive", "llm"] = "extractive"
    llm: ModelCheckOut | None = Field(None, description="Answerer 'llm' only.")


class SearchOut(BaseModel):
    """Ranked passages for a query."""

    query: str
    passages: list[PassageOut]


class DocumentOut(BaseModel):
    """A source document's text, exactly as the offsets refer to it: the text the index
    was built from (for a PDF or HTML file, the extracted text)."""

    doc_id: str
    text: str
    kind: str = Field("text", description="'text' (.txt, .md), 'pdf' or 'html'.")
    pages: list[int] | None = Field(
        None, description="For a PDF: the offset in text where each page starts, page 1 first."
    )
    version: str = Field(description="The index version whose text this is.")


class DocumentListOut(BaseModel):
    """The ids of the indexed documents."""

    documents: list[str]


class HealthOut(BaseModel):
    """Liveness: the process answers."""

    status: str = "ok"


class ModelEndpointOut(BaseModel):
    """The model endpoint of QA_LLM_URL, and whether it answers."""

    model: str
    answers: bool = Field(description="Whether GET /models answered just now.")
    detail: str


class ReadyOut(BaseModel):
    """Readiness: the index is loaded."""

    ready: bool
    documents: int = Field(ge=0)
    passages: int = Field(ge=0)
    llm: ModelEndpointOut | None = Field(
        None, description="The model endpoint (null: none configured; /ask answerer 'llm' "
        "then gives 409). Its state does not change readiness."
    )


class SkippedOut(BaseModel):
    """A corpus file left out of the index (or indexed with a warning), and why."""

    path: str
    reason: str


class ReloadOut(BaseModel):
    """The result of ``POST /reload``."""

    reloaded: bool = Field(description="True when a new index version was built and loaded.")
    documents: int = Field(ge=0)
    passages: int = Field(ge=0)
    skipped: list[SkippedOut] = Field(
        description="Corpus files the loaded index left out, or indexed with a warning "
        "(reason 'indexed with a warning: ...'), each with the reason."
    )


class ErrorOut(BaseModel):
    """Every 4xx/5xx body: one readable message, plus field errors for validation failures."""

    detail: str
    errors: list[dict[str, Any]] | None = None
