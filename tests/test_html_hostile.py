"""HTML pages a careless or hostile author would write (issue 24, findings 10-12, 14-16).

Each page is generated here; the pages go through the real extraction child and the index
(fake embedder), so a wrong decoding or a dropped paragraph shows in the stored text.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import Any

import pytest

from index.documents.extract.bounded import extract_bounded
from index.documents.extract.records import ExtractSettings

PLAIN = "<p>The harbour opened in 1911 after nine years of work.</p>"


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}<title>T</title></head><body>{body}</body></html>"


def extracted(html: str | bytes) -> str:
    data = html.encode("utf-8") if isinstance(html, str) else html
    result = extract_bounded("html", data, ExtractSettings(seconds=60))
    assert result.error is None, result.error
    return result.text


def built(make_service: Callable[..., Any], files: dict[str, str | bytes]) -> Any:
    service = make_service(files)
    service.open()
    assert not service.last_build.skipped, service.last_build.skipped
    return service


# Finding 10: the <meta> prescan as browsers run it -----------------------------------------

def test_a_utf16_label_on_ascii_bytes_means_utf8(make_service: Callable[..., Any]) -> None:
    service = built(make_service, {
        "declared.html": page(PLAIN, '<meta charset="utf-16">'),
        "in-comment.html": page(PLAIN, "<!-- <meta charset=utf-16> -->"),
        "http-equiv.html": page(PLAIN, '<meta http-equiv="Content-Type" '
                                       'content="text/html; charset=UTF-16LE">'),
    })
    for name in ("declared.html", "in-comment.html", "http-equiv.html"):
        assert service.document(name) == "The harbour opened in 1911 after nine years of work."


def test_a_declaration_in_a_comment_or_without_http_equiv_is_not_obeyed() -> None:
    text = "<p>Café crème in Málaga costs 3 €.</p>"
    for hiding in ("<!-- <meta charset=koi8-r> -->",
                   '<meta name="note" content="text/html; charset=koi8-r">'):
        assert extracted(page(text, hiding)) == "Café crème in Málaga costs 3 €."


def test_a_byte_order_mark_wins_and_undeclared_bytes_fall_back() -> None:
    body = page("<p>Déjà vu in Zürich.</p>", "<meta charset=koi8-r>")
    assert extracted("\ufeff".encode("utf-16-le") + body.encode("utf-16-le")) == \
        "Déjà vu in Zürich."
    assert extracted(codecs.BOM_UTF8 + body.encode("utf-8")) == "Déjà vu in Zürich."
    # no declaration, not UTF-8: windows-1252, as before
    assert extracted(page("<p>Déjà “vu”.</p>").encode("cp1252")) == "Déjà “vu”."


# Finding 14: labels are WHATWG labels ----------------------------------------------------

def test_charset_labels_are_whatwg_labels(make_service: Callable[..., Any]) -> None:
    quoted = "<p>The “Harbour Act” cost 4 € — a fortune.</p>"
    japanese = "<p>横浜港は1859年に開港した。</p>"
    service = built(make_service, {
        "latin1.html": page(quoted, "<meta charset=iso-8859-1>").encode("cp1252"),
        "ascii.html": page(quoted, "<meta charset=us-ascii>").encode("cp1252"),
        "sjis.html": page(japanese, "<meta charset=x-sjis>").encode("shift_jis"),
        "undefined.html": page(quoted, "<meta charset=undefined>").encode("utf-8"),
        "unknown-then-known.html": page(quoted, "<meta charset=bogus><meta charset=cp1252>")
        .encode("cp1252"),
    })
    for name in ("latin1.html", "ascii.html", "undefined.html", "unknown-then-known.html"):
        assert service.document(name) == "The “Harbour Act” cost 4 € — a fortune.", name
    assert service.document("sjis.html") == "横浜港は1859年に開港した。"


# Finding 11: boilerplate names are whole class tokens -----------------------------------

def test_boilerplate_matches_whole_class_tokens() -> None:
    text = extracted(page(
        "<main><h1>Budget</h1>"
        '<div class="card social-security-benefits"><p>Pensions rose by 3 percent.</p></div>'
        '<section id="share-of-budget"><p>Defence took 12 percent of the budget.</p></section>'
        '<div class="menu-of-the-day"><p>The canteen served fish.</p></div>'
        '<div class="cookie-banner">We use cookies.</div>'
        '<ul class="share-buttons"><li>Post it</li></ul>'
        '<div id="site_nav">Home · About</div>'
        '<div class="breadcrumbs">Home › Budget</div>'
        "</main>"))
    assert text.split("\n\n") == [
        "Budget", "Pensions rose by 3 percent.", "Defence took 12 percent of the budget.",
        "The canteen served fish.",
    ]


def test_the_content_root_itself_is_never_dropped() -> None:
    assert extracted(page('<main class="nav-page"><p>The pier is long.</p></main>')) == \
        "The pier is long."
    assert extracted(page('<div>Menu</div><article id="share"><p>The pier is long.</p>'
                          "</article>")) == "The pier is long."
    body = '<body class="sidebar-page"><p>The pier is long.</p></body>'
    assert extracted(f"<html>{body}</html>") == "The pier is long."


# Finding 15: an empty <main> does not hide the body --------------------------------------

def test_an_empty_main_falls_back_to_the_body(make_service: Callable[..., Any]) -> None:
    service = built(make_service, {
        "empty-main.html": page("<main></main>" + PLAIN),
        "boilerplate-main.html": page('<main><div class="share">Share</div></main>' + PLAIN),
        "empty-article.html": page("<article> </article>" + PLAIN),
    })
    for name in ("empty-main.html", "boilerplate-main.html", "empty-article.html"):
        assert service.document(name) == "The harbour opened in 1911 after nine years of work."


# Finding 16: an article's own header is its title ----------------------------------------

def test_an_article_header_keeps_its_heading(make_service: Callable[..., Any]) -> None:
    service = built(make_service, {"story.html": page(
        '<header class="site">The Town Gazette <a href="/">Home</a></header>'
        "<article><header><h1>Harbour Works</h1><p>Published 3 May 1912</p></header>"
        "<h2>Costs</h2><p>The works cost nine thousand crowns.</p></article>"
        "<footer>Copyright the town council</footer>")})
    doc = service.stored_document("story.html")
    assert doc.text.split("\n\n") == [
        "Harbour Works", "Published 3 May 1912", "Costs", "The works cost nine thousand crowns.",
    ]
    section = next(c.section for c in service.loaded.index.chunks if "nine thousand" in c.text)
    assert section == ("Harbour Works", "Costs")


# Finding 12: table rows carry their header -----------------------------------------------

SYLLABLES = ("mar", "i", "gold", "ve", "lo", "ran", "tes", "bel", "or", "sa", "dun", "kel")


def vessel_name(n: int) -> str:
    """A made-up word for row ``n`` (no digits, so only the pier number says the row)."""
    parts = [SYLLABLES[(n // 12**k) % 12] for k in range(4)]
    return "".join(parts).capitalize()


@pytest.mark.slow
def test_table_rows_carry_their_header(make_service: Callable[..., Any]) -> None:
    rows = "".join(
        f"<tr><td>{n}</td><td>{'Marigold' if n == 7777 else vessel_name(n)}</td>"
        f"<td>{1900 + n % 100}</td></tr>" for n in range(1, 10_001))
    html = page("<h1>Berths</h1><table><thead><tr><th>Pier</th><th>Vessel</th><th>Built</th>"
                f"</tr></thead><tbody>{rows}</tbody></table>")
    service = built(make_service, {"berths.html": html})
    lines = service.document("berths.html").split("\n\n")
    assert lines[:2] == ["Berths", f"Pier: 1 | Vessel: {vessel_name(1)} | Built: 1901"]
    assert "Pier: 7777 | Vessel: Marigold | Built: 1977" in lines
    assert len(lines) == 10_001  # the header row is said by every row, not on its own
    top = service.search("Which vessel is at Pier 7777?", k=3)[0]
    assert "Pier: 7777 | Vessel: Marigold" in top.text
