"""The evaluation report: ``report.md``, ``metrics.svg`` and ``results.json`` in a folder.

The headline quality figures are strict: accuracy is :func:`eval.metrics.answers.strict_match`
(lenient containment is reported beside it), exact match and F1 follow SQuAD v2. Every
metric is also broken down by answer type and by document. The chart is a hand-written
SVG (no plotting library): one group of bars per headline metric, one bar per system, on
a common 0-1 scale.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from eval.aggregate import by_answer_type, by_document
from eval.results import QuestionResult, Suite, SystemMetrics

# (field of SystemMetrics, label, unit): the headline table, in reading order.
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("hit_at_1", "hit@1", "rate"),
    ("hit_at_5", "hit@5", "rate"),
    ("mrr_at_10", "MRR@10", "rate"),
    ("ndcg_at_10", "nDCG@10", "rate"),
    ("accuracy", "strict accuracy", "rate"),
    ("exact_match", "exact match (HasAns)", "rate"),
    ("f1", "token F1 (HasAns)", "rate"),
    ("no_answer_exact_match", "exact match = F1 (NoAns)", "rate"),
    ("overall_exact_match", "SQuAD v2 exact match (all)", "rate"),
    ("overall_f1", "SQuAD v2 F1 (all)", "rate"),
    ("lenient_accuracy", "lenient accuracy (containment)", "rate"),
    ("citation_verification", "citation verification", "rate"),
    ("passage_verification", "passage verification", "rate"),
    ("citation_precision", "citation precision", "rate"),
    ("answer_in_citation", "answer inside citation", "rate"),
    ("abstention_precision", "abstention precision", "rate"),
    ("abstention_recall", "abstention recall", "rate"),
    ("false_abstention_rate", "false abstention (lower is better)", "rate"),
    ("ece", "calibration error ECE (lower is better)", "rate"),
    ("latency_p50_ms", "latency p50 ms", "ms"),
    ("latency_p95_ms", "latency p95 ms", "ms"),
)
# The count of SystemMetrics a metric is measured on; with none it is shown as n/a (a group
# of unanswerable questions has no hit@1; a group without any has no abstention recall).
MEASURED_ON: dict[str, str] = {
    **dict.fromkeys(("hit_at_1", "hit_at_5", "mrr_at_10", "ndcg_at_10"), "with_evidence"),
    **dict.fromkeys(
        ("accuracy", "exact_match", "f1", "lenient_accuracy", "false_abstention_rate", "ece"),
        "answerable",
    ),
    **dict.fromkeys(("no_answer_exact_match", "no_answer_f1", "abstention_recall"), "unanswerable"),
}
# The metrics drawn in the chart: higher is better for all of them.
CHARTED: tuple[tuple[str, str], ...] = (
    ("hit_at_1", "hit@1"),
    ("hit_at_5", "hit@5"),
    ("mrr_at_10", "MRR@10"),
    ("ndcg_at_10", "nDCG@10"),
    ("accuracy", "strict\naccuracy"),
    ("exact_match", "exact\nmatch"),
    ("f1", "token\nF1"),
    ("citation_precision", "citation\nprecision"),
    ("abstention_precision", "abstention\nprecision"),
    ("abstention_recall", "abstention\nrecall"),
)
COLORS = {"hybrid": "#1f5fa8", "bm25": "#e08a1e", "dense": "#3a9a4a"}
_FALLBACK_COLORS = ("#7b4fa0", "#b03a3a", "#555555")


def format_value(value: float | None, unit: str) -> str:
    """A metric for display: rates with 3 decimals, milliseconds whole, ``n/a`` for None."""
    if value is None:
        return "n/a"
    return f"{value:.0f}" if unit == "ms" else f"{value:.3f}"


def headline_rows(suite: Suite) -> list[list[str]]:
    """Rows of the headline table: the metric label, then one value per system."""
    return metric_rows([run.metrics for run in suite.systems.values()])


def metric_rows(columns: list[SystemMetrics]) -> list[list[str]]:
    """One row per headline metric: its label, then its value in each column."""
    return [
        [label] + [format_value(_measured(m, key), unit) for m in columns]
        for key, label, unit in HEADLINE
    ]


def _measured(m: SystemMetrics, key: str) -> float | None:
    """A metric's value, or None when no question it is measured on is there."""
    population = MEASURED_ON.get(key)
    if population is not None and not getattr(m, population):
        return None
    value: float | None = getattr(m, key)
    return value


def suite_to_dict(suite: Suite) -> dict[str, Any]:
    """The ``--json`` object: metrics per system and our per-question results."""
    main, *baselines = suite.systems.values()
    questions = []
    for n, result in enumerate(main.results):
        row = asdict(result)
        row["passed"] = result.passed
        row["baselines"] = {
            run.mode: {
                "answer": run.results[n].answer,
                "abstained": run.results[n].abstained,
                "confidence": run.results[n].confidence,
                "evidence_rank": run.results[n].evidence_rank,
                "correct": run.results[n].correct,
                "lenient_correct": run.results[n].lenient_correct,
                "passed": run.results[n].passed,
            }
            for run in baselines
        }
        questions.append(row)
    return {
        "split": suite.split,
        "gold": suite.gold,
        "k": suite.k,
        "systems": {mode: run.metrics.to_dict() for mode, run in suite.systems.items()},
        "breakdown": {
            mode: {
                "answer_type": {
                    name: m.to_dict() for name, m in by_answer_type(run.results).items()
                },
                "document": {name: m.to_dict() for name, m in by_document(run.results).items()},
            }
            for mode, run in suite.systems.items()
        },
        "abstain_threshold": suite.threshold,
        "questions": questions,
    }


def write_report(suite: Suite, directory: Path) -> list[Path]:
    """Write ``report.md``, ``metrics.svg`` and ``results.json`` into ``directory``.

    Returns:
        The paths written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "report.md": markdown_report(suite, chart="metrics.svg"),
        "metrics.svg": metrics_svg(suite),
        "results.json": json.dumps(suite_to_dict(suite), ensure_ascii=False, indent=2) + "\n",
    }
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return [directory / name for name in files]


# -- Markdown --------------------------------------------------------------------------


def markdown_report(suite: Suite, chart: str) -> str:
    """The human report: run facts, headline table, chart, calibration, per-question table."""
    main = next(iter(suite.systems.values()))
    m = main.metrics
    lines = [
        "# Evaluation report",
        "",
        f"Gold file `{suite.gold}`, split **{suite.split}**: {m.questions} questions "
        f"({m.answerable} answerable, {m.unanswerable} unanswerable); {suite.k} passages "
        f"per question; abstention threshold {suite.threshold:g}. "
        f"Ours is `{main.mode}`; the others are baselines over the same chunks, "
        "answered the same way.",
        "",
        "## Headline metrics",
        "",
        _table(["metric", *suite.systems], headline_rows(suite)),
        "",
        f"![Headline metrics per system]({chart})",
        "",
        f"## By answer type ({main.mode})",
        "",
        _breakdown_table(by_answer_type(main.results)),
        "",
        f"## By document ({main.mode})",
        "",
        "The document holding the gold evidence; for questions without evidence, the "
        "first cited document, `(none)` when nothing was cited.",
        "",
        _breakdown_table(by_document(main.results)),
        "",
        f"## Confidence calibration ({main.mode}, answerable questions, strict accuracy)",
        "",
        _calibration_table(m),
        "",
        f"Expected calibration error: {m.ece:.3f}.",
        "",
        f"## Per question ({main.mode}; failures first)",
        "",
        _question_table(suite),
        "",
    ]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _calibration_table(m: SystemMetrics) -> str:
    rows = [
        [
            f"{b['lo']:.1f}–{b['hi']:.1f}",
            str(b["count"]),
            format_value(b["mean_confidence"], "rate"),
            format_value(b["accuracy"], "rate"),
        ]
        for b in m.calibration
    ]
    return _table(["confidence", "questions", "mean confidence", "strict accuracy"], rows)


def _breakdown_table(groups: dict[str, SystemMetrics]) -> str:
    """Every headline metric (rows) for each group (columns), with the group sizes first."""
    sizes = [
        "questions (answerable / unanswerable)",
        *(f"{m.questions} ({m.answerable} / {m.unanswerable})" for m in groups.values()),
    ]
    return _table(["metric", *groups], [sizes, *metric_rows(list(groups.values()))])


def _question_table(suite: Suite) -> str:
    main, *baselines = suite.systems.values()
    order = sorted(range(len(main.results)), key=lambda n: main.results[n].passed)
    rows = []
    for n in order:
        r = main.results[n]
        rows.append(
            [
                "pass" if r.passed else "**FAIL**",
                r.id,
                r.question,
                " / ".join(r.golds) if r.golds else "(unanswerable)",
                _shown_answer(r),
                r.answer_type,
                f"{r.exact_match:.0f} / {r.f1:.2f}",
                "–" if r.evidence_rank is None else str(r.evidence_rank),
                f"{r.confidence:.2f}",
                *("pass" if run.results[n].passed else "fail" for run in baselines),
            ]
        )
    header = ["result", "id", "question", "gold", "answer", "type", "EM / F1"]
    header += ["evidence rank", "confidence"]
    return _table(header + [run.mode for run in baselines], rows)


def _shown_answer(result: QuestionResult) -> str:
    if result.abstained or result.answer is None:
        return "(abstained)"
    return result.answer


# -- SVG chart -------------------------------------------------------------------------

_BAR, _GAP, _LEFT, _TOP, _PLOT_H, _BOTTOM = 20, 26, 56, 70, 260, 60


def metrics_svg(suite: Suite) -> str:
    """A grouped bar chart of the charted metrics, one colour per system."""
    modes = list(suite.systems)
    colors = {m: COLORS.get(m, _FALLBACK_COLORS[i % 3]) for i, m in enumerate(modes)}
    group = _BAR * len(modes) + _GAP
    width = _LEFT + group * len(CHARTED) + 20
    height = _TOP + _PLOT_H + _BOTTOM
    base = _TOP + _PLOT_H
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{_LEFT}" y="24" font-size="16" font-weight="bold">'
        f"{escape(f'Headline metrics, split {suite.split} ({_count(suite)} questions)')}</text>",
    ]
    for tick in range(6):
        value = tick / 5
        y = base - value * _PLOT_H
        out.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{width - 20}" y2="{y:.1f}" '
            f'stroke="{"#888" if tick == 0 else "#e3e3e3"}"/>'
        )
        out.append(
            f'<text x="{_LEFT - 8}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#444">{value:.1f}</text>'
        )
    for i, mode in enumerate(modes):
        x = _LEFT + i * 110
        out.append(f'<rect x="{x}" y="38" width="12" height="12" fill="{colors[mode]}"/>')
        out.append(f'<text x="{x + 17}" y="49" font-size="12">{escape(mode)}</text>')
    for g, (key, label) in enumerate(CHARTED):
        x0 = _LEFT + g * group + _GAP / 2
        for i, mode in enumerate(modes):
            out.extend(_bar(x0 + i * _BAR, getattr(suite.systems[mode].metrics, key), colors[mode]))
        center = x0 + _BAR * len(modes) / 2
        for line_no, part in enumerate(label.split("\n")):
            out.append(
                f'<text x="{center:.1f}" y="{base + 18 + 13 * line_no}" font-size="11" '
                f'text-anchor="middle">{escape(part)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _bar(x: float, value: float | None, color: str) -> list[str]:
    base = _TOP + _PLOT_H
    if value is None:
        return [
            f'<text x="{x + _BAR / 2:.1f}" y="{base - 4}" font-size="9" '
            f'text-anchor="middle" fill="#888">n/a</text>'
        ]
    h = max(value, 0.0) * _PLOT_H
    return [
        f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{_BAR - 2}" height="{h:.1f}" '
        f'fill="{color}"><title>{value:.3f}</title></rect>',
        f'<text x="{x + (_BAR - 2) / 2:.1f}" y="{base - h - 3:.1f}" font-size="9" '
        f'text-anchor="middle" fill="#222">{value:.2f}</text>',
    ]


def _count(suite: Suite) -> int:
    return next(iter(suite.systems.values())).metrics.questions
