"""Property-based fuzzing of the OpenAPI schema (schemathesis) against the fake service.

For every operation, schemathesis generates valid and invalid requests from the schema and
checks that no response is a 5xx and that every response conforms to the schema (status code
documented, body matching its model, content type declared).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from api.app import create_app

FILES = {
    "alliance.txt": (
        "1 Alliance\n\n(1) Deterrence\n\nThe Extended Deterrence Dialogue was established in "
        "2010 and meets twice a year.\n\n(2) Support\n\nJapan provides host nation support.\n"
    ),
    "notes/summit.md": "2 Summit\n\nThe leaders met in April 2024 🌸 in Washington.\n",
}


# Every operation of the schema; a test below checks this list is complete.
OPERATIONS = [
    ("GET", "/health"),
    ("GET", "/ready"),
    ("POST", "/ask"),
    ("GET", "/search"),
    ("GET", "/passages/{chunk_id}"),
    ("GET", "/documents"),
    ("GET", "/documents/{doc_id}"),
    ("POST", "/reload"),
]


KEY = "fuzz-key"
FUZZ_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def load_schema(make_service: Callable[..., Any], **overrides: Any) -> Any:
    # schemathesis calls the app as http://testserver: the one host name it must answer to
    service = make_service(FILES, allowed_hosts=["testserver"], **overrides)
    service.open()
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(service.settings, service))


@pytest.fixture()
def api_schema(make_service: Callable[..., Any]) -> Any:
    return load_schema(make_service)


def test_the_fuzzed_operations_are_all_of_them(api_schema: Any) -> None:
    found = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


# Invalid requests only exist for operations that take input.
CASES = [(m, p, GenerationMode.POSITIVE) for m, p in OPERATIONS] + [
    (m, p, GenerationMode.NEGATIVE)
    for m, p in OPERATIONS
    if p in ("/ask", "/search")  # any string is a well-formed id: no invalid path exists
]


# schemathesis' own pytest plugin (``schema.parametrize``) fails on pytest 9.2
# ("'Function' object has no attribute '_nodeid'"), so the strategies are driven directly.
@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_no_5xx_and_responses_match_the_schema(
    api_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @FUZZ_SETTINGS
    def check(case: Any) -> None:
        case.call_and_validate()

    check()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_with_a_key_and_a_rate_limit_the_schema_still_holds(
    make_service: Callable[..., Any], method: str, path: str
) -> None:
    # The schema then declares the bearer scheme, 401 and 429; schemathesis also checks
    # that requests with a made-up key are refused.
    schema = load_schema(make_service, api_key=KEY, rate_limit_per_minute=10_000)
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @FUZZ_SETTINGS
    def check(case: Any) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"})

    check()
