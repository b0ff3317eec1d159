"""HTTP error bodies name settings, never the server's folders (issue 24, finding 22).

The CLI names folders in full (it runs on the user's own machine); a 503 body goes to any
client, so it says ``$QA_INDEX_DIR/...`` or ``$QA_CORPUS_DIR`` instead, and any other
absolute path is cut to its last name. The server log keeps the full message.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.redact import public_detail
from qa.errors import CorruptIndex
from qa.settings import Settings
from tests.helpers.servers import local_client

TEXT = "1 Alliance\n\nThe dialogue was established in 2010 and meets twice a year.\n"
QUESTION = "When was the dialogue established?"


def assert_no_server_path(body: str, root: Path) -> None:
    assert str(root) not in body
    assert str(root.resolve()) not in body


def test_reload_with_the_corpus_folder_gone_is_a_503_without_its_path(
    make_service: Callable[..., Any], tmp_path: Path
) -> None:
    service = make_service({"a.txt": TEXT})
    service.open()
    with local_client(create_app(service.settings, service)) as client:
        shutil.rmtree(service.settings.corpus_dir)
        response = client.post("/reload")
        assert response.status_code == 503, response.text
        assert "$QA_CORPUS_DIR" in response.json()["detail"]
        assert_no_server_path(response.text, tmp_path)
        assert client.post("/ask", json={"question": QUESTION}).status_code == 200


def test_reload_with_a_file_in_place_of_the_index_folder_is_a_503_without_its_path(
    make_service: Callable[..., Any], tmp_path: Path
) -> None:
    service = make_service({"a.txt": TEXT})
    service.open()
    index_dir = service.settings.index_dir
    with local_client(create_app(service.settings, service)) as client:
        index_dir.rename(tmp_path / "elsewhere")
        index_dir.write_text("not a folder\n")
        (service.settings.corpus_dir / "b.txt").write_text("2 More\n\nA second text.\n")
        response = client.post("/reload")
        assert response.status_code == 503, response.text
        detail = response.json()["detail"]
        assert "the index folder $QA_INDEX_DIR cannot be used" in detail
        assert_no_server_path(response.text, tmp_path)
        assert client.post("/ask", json={"question": QUESTION}).status_code == 200


def test_a_path_outside_the_settings_is_cut_to_its_name(
    make_service: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service({"a.txt": TEXT})
    service.open()

    def damaged() -> bool:
        raise CorruptIndex("index in /srv/secret/citeqa/v-1/chunks.jsonl cannot be read")

    monkeypatch.setattr(service, "reload", damaged)
    with local_client(create_app(service.settings, service)) as client:
        response = client.post("/reload")
    assert response.status_code == 503
    assert response.json()["detail"] == "index in …/chunks.jsonl cannot be read"


def test_ready_after_a_failed_load_is_a_503_without_the_path(
    make_service: Callable[..., Any], tmp_path: Path
) -> None:
    service = make_service({"a.txt": TEXT})
    shutil.rmtree(service.settings.corpus_dir)
    with local_client(create_app(service.settings, service)) as client:
        response = client.get("/ready")
        while "still loading" in response.text:
            response = client.get("/ready")
    assert response.status_code == 503
    assert "$QA_CORPUS_DIR" in response.json()["detail"]
    assert_no_server_path(response.text, tmp_path)


@pytest.mark.parametrize(
    ("message", "said"),
    [
        ("index in /srv/idx/v-1 cannot be read", "index in $QA_INDEX_DIR/v-1 cannot be read"),
        ("corpus folder not found: /srv/idx/corpus", "corpus folder not found: $QA_CORPUS_DIR"),
        ("no folder /srv/idx2/x.", "no folder …/x."),  # another folder, not the index's
        ("Milvus at http://h:19530/db failed", "Milvus at http://h:19530/db failed"),
        ("source '/home/u/x.parquet': bad", "source '…/x.parquet': bad"),
        ("and/or 1/2 /x", "and/or 1/2 /x"),
    ],
)
def test_public_detail(message: str, said: str) -> None:
    settings = Settings(index_dir=Path("/srv/idx"), corpus_dir=Path("/srv/idx/corpus"))
    assert public_detail(message, settings) == said
