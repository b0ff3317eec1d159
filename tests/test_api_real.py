"""The HTTP API over the real model and the real chapter."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.helpers.servers import local_client

pytestmark = pytest.mark.slow

QUESTION = "When was the Extended Deterrence Dialogue established?"


@pytest.fixture(scope="module")
def client(real_service: Any) -> TestClient:
    return local_client(create_app(real_service.settings, real_service))


def test_ask_cites_the_chapter_exactly(
    client: TestClient, real_service: Any, chapter_text: str
) -> None:
    response = client.post("/ask", json={"question": QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert body == json.loads(json.dumps(real_service.ask(QUESTION).to_dict()))
    assert not body["abstained"]
    assert "2010" in body["answer"]
    assert body["citations"]
    passages = {p["chunk_id"]: p for p in body["passages"]}
    for citation in body["citations"]:
        assert chapter_text[citation["start"] : citation["end"]] == citation["quote"]
        passage = passages[citation["chunk_id"]]
        assert passage["start"] <= citation["start"] < citation["end"] <= passage["end"]
        assert chapter_text[passage["start"] : passage["end"]] == passage["text"]


def test_the_document_endpoint_serves_the_chapter_as_indexed(
    client: TestClient, chapter_text: str
) -> None:
    (doc_id,) = client.get("/documents").json()["documents"]
    response = client.get(f"/documents/{doc_id}")
    assert response.status_code == 200
    assert response.json()["text"] == chapter_text


def test_a_japanese_question_gets_a_well_formed_answer(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "日米拡大抑止協議はいつ設立されましたか？"})
    assert response.status_code == 200
    body = response.json()
    assert body["question"] == "日米拡大抑止協議はいつ設立されましたか？"
    assert 0.0 <= body["confidence"] <= 1.0
