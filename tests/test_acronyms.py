"""The acronym table: built from the documents, nothing invented without a definition."""

from __future__ import annotations

import re
from typing import Any

import pytest

from index.text.acronyms import extract_acronyms, match_long_form, schwartz_hearst
from qa.query import expand_acronyms


@pytest.fixture(scope="module")
def chapter_table(chapter_text: str) -> dict[str, str]:
    return extract_acronyms([chapter_text])


@pytest.mark.parametrize(
    ("acronym", "long_form"),
    [
        ("EDD", "Extended Deterrence Dialogue"),
        ("SMA", "Special Measures Agreements"),
        ("HNS", "Host Nation Support"),
        ("GPI", "Glide Phase Interceptor"),
        ("ICBM", "intercontinental ballistic missile"),
        ("ACM", "Alliance Coordination Mechanism"),
        ("BMD", "Ballistic Missile Defense"),
        ("SOFA", "Status of Forces Agreement"),
        ("JGSDF", "Japan Ground Self-Defense Force"),
        ("MOFA", "Ministry of Foreign Affairs"),
        ("UNC", "United Nations Command"),
        ("MCAS", "Marine Corps Air Station"),
        ("WPS", "Women, Peace and Security"),
        ("DoDEA", "Department of Defense Education Activity"),
        ("PCB", "polychlorinated biphenyls"),
        ("PFAS", "per- and polyfluoroalkyl substances"),
        ("TOFU", "Think of Okinawa's Future in the United States"),
    ],
)
def test_chapter_acronyms(chapter_table: dict[str, str], acronym: str, long_form: str) -> None:
    assert chapter_table[acronym] == long_form


def test_chapter_table_has_only_defined_acronyms(
    chapter_text: str, chapter_table: dict[str, str]
) -> None:
    defined = set(re.findall(r"\(([A-Z][A-Za-z0-9&\-]{1,11})\)", chapter_text))
    labelled = set(re.findall(r"“([A-Z][A-Z0-9&\-]{1,11}):", chapter_text))
    for acronym, long_form in chapter_table.items():
        assert acronym in defined or f"{acronym}s" in defined or acronym in labelled
        # The long form is written in the text right before the definition, or after the label.
        assert re.search(
            re.escape(long_form) + r"[”\"']?\s*\(" + re.escape(acronym) + r"s?\)", chapter_text
        ) or f"“{acronym}: {long_form}”" in chapter_text, acronym
    assert "SEED/TOFU" not in chapter_table
    assert "SMAs" not in chapter_table and "PCBs" not in chapter_table  # keyed without plural


@pytest.mark.slow
def test_the_index_stores_the_table(real_service: Any, chapter_table: dict[str, str]) -> None:
    assert real_service.loaded.index.acronyms == chapter_table


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The World Health Organization (WHO) met.", {"WHO": "World Health Organization"}),
        (
            "They signed the Status of Forces Agreements (SOFAs) last year.",
            {"SOFA": "Status of Forces Agreements"},
        ),
        (
            "An intercontinental ballistic missile (ICBM) was tested.",
            {"ICBM": "intercontinental ballistic missile"},
        ),
        (
            "The Japan Self-Defense Forces (JSDF) took part.",
            {"JSDF": "Japan Self-Defense Forces"},
        ),
        (
            "The Department of Defense Education Activity (DoDEA) runs schools.",
            {"DoDEA": "Department of Defense Education Activity"},
        ),
        (
            "The exercise “Yama Sakura 87” (YS-87) was observed.",
            {"YS-87": "Yama Sakura 87"},
        ),
        (
            "Talks on Women, Peace and Security (WPS) continued.",
            {"WPS": "Women, Peace and Security"},
        ),
        (
            "Both pre- and post-war reconstruction (PPWR) plans were discussed.",
            {"PPWR": "pre- and post-war reconstruction"},
        ),
        (
            "The ministry runs the “SAFE: Students Abroad For Exchange” scheme.",
            {"SAFE": "Students Abroad For Exchange"},
        ),
        ("The “ABC: Zebra Crossing” label spells nothing.", {}),
    ],
)
def test_synthetic_definitions(text: str, expected: dict[str, str]) -> None:
    assert extract_acronyms([text]) == expected


def test_first_definition_wins_across_documents() -> None:
    table = extract_acronyms(
        [
            "The Host Nation Support (HNS) budget grew.",
            "Later, Home Network Services (HNS) were mentioned.",
        ]
    )
    assert table == {"HNS": "Host Nation Support"}


@pytest.mark.parametrize(
    "text",
    [
        "The ABC said that XYZ would come to Tokyo next week.",  # used, never defined
        "The meeting was held in Tokyo (Japan) in May.",  # a capitalised word in brackets
        "The meeting was held in Tokyo (JST) in May.",  # no words spell JST
        "(See the Column on page 199.) It was fine.",
        "Marines (USMC) arrived.",  # too few words before it to spell it
        "",
    ],
)
def test_nothing_invented_without_a_definition(text: str) -> None:
    assert extract_acronyms([text]) == {}


def test_match_long_form_and_schwartz_hearst() -> None:
    assert match_long_form(["the", "Host", "Nation", "Support"], "HNS") == "Host Nation Support"
    assert match_long_form(["went", "home"], "HNS") is None
    assert match_long_form(["anything"], "H") is None  # a single letter is no acronym
    assert schwartz_hearst("ICBM", "an intercontinental ballistic missile") == (
        "intercontinental ballistic missile"
    )
    assert schwartz_hearst("XYZ", "nothing spells it here") is None


def test_table_drives_query_expansion(chapter_table: dict[str, str]) -> None:
    expanded = expand_acronyms("When was the EDD established?", chapter_table)
    assert "Extended Deterrence Dialogue" in expanded
    reverse = expand_acronyms("What does Host Nation Support cover?", chapter_table)
    assert "HNS" in reverse
    assert expand_acronyms("Who won the 2022 football World Cup?", chapter_table) == (
        "Who won the 2022 football World Cup?"
    )
