"""Issue 14, finding 2: ``GET /documents/{id}`` serves the text the index was built from.

Before, the route read the live corpus file: an edit without a reload made it disagree with
the citations, a file turned non-UTF-8 gave a 500, and a file grown past the size cap was
served whole. The text now lives in the index (``texts/``, checksummed in the manifest).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.app import create_app
from index.store import TEXTS_DIR, current_version
from tests.helpers.servers import local_client

TEXT = ("1 Harbour\n\nThe harbour was dredged in 1911 by the town council.\n\n"
        "2 Bridge\n\nThe bridge over the river was finished in 1930.\n")
QUESTION = "When was the bridge finished?"


def opened(make_service: Callable[..., Any], **overrides: Any) -> Any:
    service = make_service({"town.txt": TEXT}, **overrides)
    service.open()
    return service


def test_an_edit_without_reload_does_not_change_the_served_text(
    make_service: Callable[..., Any],
) -> None:
    service = opened(make_service)
    (service.settings.corpus_dir / "town.txt").write_text(
        "Completely different words now.\n" + TEXT.replace("1930", "1999"), "utf-8")
    with local_client(create_app(service.settings, service)) as client:
        answer = client.post("/ask", json={"question": QUESTION}).json()
        served = client.get("/documents/town.txt")
    assert served.status_code == 200
    body = served.json()
    assert body["text"] == TEXT and body["kind"] == "text" and body["pages"] is None
    assert answer["citations"], answer
    for item in [*answer["citations"], *answer["passages"]]:
        quoted = item.get("quote", item.get("text"))
        assert body["text"][item["start"] : item["end"]] == quoted


def test_a_file_that_becomes_non_utf8_is_no_500(make_service: Callable[..., Any]) -> None:
    service = opened(make_service)
    (service.settings.corpus_dir / "town.txt").write_bytes(b"caf\xe9 \xff\xfe broken")
    with local_client(create_app(service.settings, service)) as client:
        served = client.get("/documents/town.txt")
    assert served.status_code == 200 and served.json()["text"] == TEXT


def test_a_file_grown_past_the_cap_is_not_served_whole(make_service: Callable[..., Any]) -> None:
    service = opened(make_service, max_file_mb=0.01)
    with (service.settings.corpus_dir / "town.txt").open("a", encoding="utf-8") as handle:
        handle.write("More text. " * 5000)  # 55 KB, past the 10 KB cap
    with local_client(create_app(service.settings, service)) as client:
        served = client.get("/documents/town.txt")
        assert served.status_code == 200 and served.json()["text"] == TEXT
        # a stored text over the serving cap (the cap lowered after the build) is a 413
        service.settings.max_file_mb = 0.0001
        refused = client.get("/documents/town.txt")
    assert refused.status_code == 413
    assert "QA_MAX_FILE_MB" in refused.json()["detail"]


def test_a_damaged_stored_text_is_found_by_the_check(make_service: Callable[..., Any]) -> None:
    service = opened(make_service)
    stored = current_version(service.settings.index_dir) / TEXTS_DIR / "000001.txt"
    assert stored.read_text("utf-8") == TEXT
    stored.write_text(TEXT.replace("1930", "1931"), "utf-8")
    status = service.status()
    assert not status.current
    assert any("000001.txt" in r and "checksum" in r for r in status.reasons), status.reasons


def test_unknown_ids_are_404_with_a_short_echo(make_service: Callable[..., Any]) -> None:
    service = opened(make_service)
    with local_client(create_app(service.settings, service)) as client:
        missing = client.get("/documents/" + "x" * 5000)
        outside = client.get("/documents/..%2F..%2Fetc%2Fpasswd")
    assert missing.status_code == 404 and len(missing.json()["detail"]) < 200
    assert outside.status_code == 404
