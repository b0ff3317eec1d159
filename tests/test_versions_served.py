"""Issue 24, finding 13: a citation can be checked after a reload.

An answer names the index version it came from; ``GET /documents/{id}?version=`` serves
that version's text while it is one of the last ``KEPT_VERSIONS``, and a version no longer
kept is a 404 that lists the kept ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.app import create_app
from index.history import HISTORY_DIR, KEPT_VERSIONS, kept_versions
from tests.helpers.servers import local_client

TEXT = ("1 Harbour\n\nThe harbour was dredged in 1887 by the town council.\n\n"
        "2 Bridge\n\nThe bridge over the river was finished in 1930.\n")
QUESTION = "When was the harbour dredged?"


def quotes_match(text: str, answer: dict[str, Any]) -> bool:
    """Whether every quote and passage of ``town.txt`` in the answer is ``text`` at its offsets."""
    items = [i for i in [*answer["citations"], *answer["passages"]] if i["doc_id"] == "town.txt"]
    return bool(items) and all(
        text[i["start"] : i["end"]] == i.get("quote", i.get("text")) for i in items)


def test_a_citation_is_checked_against_its_own_version_after_a_reload(
    make_service: Callable[..., Any],
) -> None:
    service = make_service({"town.txt": TEXT, "river.txt": "The river froze in 1902.\n"})
    service.open()
    corpus = service.settings.corpus_dir
    with local_client(create_app(service.settings, service)) as client:
        answer = client.post("/ask", json={"question": QUESTION}).json()
        first = answer["index_version"]
        assert first == service.loaded.index.version.name and answer["citations"]
        # the corpus changes under the answer: new words before it, the year corrected,
        # and a document deleted
        (corpus / "town.txt").write_text("0 Preface\n\nA new first page.\n\n"
                                         + TEXT.replace("1887", "1891"), "utf-8")
        (corpus / "river.txt").unlink()
        assert client.post("/reload").json()["reloaded"] is True
        latest = client.get("/documents/town.txt").json()
        assert latest["version"] != first and not quotes_match(latest["text"], answer)

        served = client.get("/documents/town.txt", params={"version": first})
        assert served.status_code == 200, served.text
        assert served.json()["version"] == first and served.json()["text"] == TEXT
        assert quotes_match(served.json()["text"], answer)
        # a document the reload removed is still there in the version that had it
        gone = client.get("/documents/river.txt", params={"version": first})
        assert gone.status_code == 200 and "1902" in gone.json()["text"]
        assert client.get("/documents/river.txt").status_code == 404

        again = client.post("/ask", json={"question": QUESTION}).json()
        assert again["index_version"] == latest["version"]
        assert quotes_match(latest["text"], again)


def test_only_the_last_versions_are_kept_and_a_404_names_them(
    make_service: Callable[..., Any],
) -> None:
    service = make_service({"town.txt": TEXT})
    service.open()
    versions = [service.loaded.index.version.name]
    path = service.settings.corpus_dir / "town.txt"
    for n in range(KEPT_VERSIONS):
        path.write_text(TEXT + f"\n3 Edition\n\nEdition {n}.\n", "utf-8")
        assert service.reload()
        versions.append(service.loaded.index.version.name)
    index_dir = service.settings.index_dir
    assert kept_versions(index_dir) == versions[::-1][:KEPT_VERSIONS]
    assert sorted(p.name for p in (index_dir / HISTORY_DIR).iterdir()) == sorted(versions[1:])
    with local_client(create_app(service.settings, service)) as client:
        old = client.get("/documents/town.txt", params={"version": versions[0]})
        assert old.status_code == 404
        detail = old.json()["detail"]
        assert f"'{versions[0]}' is not kept" in detail
        assert all(v in detail for v in versions[1:]), detail
        kept = client.get("/documents/town.txt", params={"version": versions[1]})
        assert kept.status_code == 200 and kept.json()["text"].endswith("Edition 0.\n")
        for bad in ("../../etc/passwd", "v-1", "history"):
            refused = client.get("/documents/town.txt", params={"version": bad})
            assert refused.status_code == 422 and "detail" in refused.json(), bad


def test_a_damaged_kept_text_is_refused_not_served(make_service: Callable[..., Any]) -> None:
    service = make_service({"town.txt": TEXT})
    service.open()
    first = service.loaded.index.version.name
    path = service.settings.corpus_dir / "town.txt"
    path.write_text(TEXT.replace("1887", "1891"), "utf-8")
    assert service.reload()
    kept = service.settings.index_dir / HISTORY_DIR / first / "texts"
    (text,) = kept.iterdir()
    text.unlink()  # a hard link: replace it, leaving the published file alone
    text.write_text(TEXT.replace("1887", "1777"), "utf-8")
    with local_client(create_app(service.settings, service)) as client:
        served = client.get("/documents/town.txt", params={"version": first})
    assert served.status_code == 503 and "damaged" in served.json()["detail"]
    assert "1777" not in served.text
