"""``qa eval``: run the gold set through the service and print, report or calibrate.

``qa.cli`` parses the arguments and opens the service; this module does the rest. Errors
are raised (``ValueError`` or ``QAError``) for the CLI edge to turn into one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from eval.gold import GoldItem, default_gold_path, load_gold
from eval.report import headline_rows, suite_to_dict, write_report
from eval.results import Suite, ThresholdChoice
from eval.runner import SYSTEMS, run_suite
from eval.threshold import fit_threshold
from index.errors import QAError
from qa.reader.model import save_model
from qa.service import QAService


def run_eval_command(
    args: argparse.Namespace, service: QAService, calibration_file: Path | None = None
) -> int:
    """Evaluate ours and the baselines on a gold file; optionally report and calibrate.

    Args:
        args: the parsed ``qa eval`` arguments (gold, split, k, json, report,
            no_baselines, calibrate).
        service: an opened service.
        calibration_file: where ``--calibrate`` writes (default: the project's file).

    Returns:
        The exit status (0).
    """
    gold = args.gold or default_gold_path()
    items = read_gold(gold, args.split)
    answerer = getattr(args, "answerer", "extractive")
    # the model is asked for our system only: the baselines would triple the model's calls
    systems = SYSTEMS[:1] if args.no_baselines or answerer == "llm" else SYSTEMS
    if answerer == "llm":
        service.llm_answerer()  # no endpoint: one line before any question is asked
    suite = run_suite(
        service, items, gold=str(gold), split=args.split, k=args.k, systems=systems,
        progress=True, answerer=answerer,
    )
    payload = suite_to_dict(suite)
    notes = []
    if args.calibrate:
        choice = calibrate(suite, service, calibration_file)
        payload["calibration"] = asdict(choice)
        notes.append(_calibration_note(choice, args.split))
    if args.report is not None:
        written = write_report(suite, args.report)
        notes.append("report written: " + ", ".join(str(p) for p in written))
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        for note in notes:
            print(note, file=sys.stderr)
    else:
        print(headline_text(suite))
        for note in notes:
            print("\n" + note)
    return 0


class GoldFileError(QAError, ValueError):
    """A gold file that is missing, unreadable or malformed."""


def read_gold(path: Path, split: str) -> list[GoldItem]:
    """The gold items of a split, or a GoldFileError with a one-line reason."""
    if not path.is_file():
        raise GoldFileError(f"gold file not found: {path}")
    try:
        items = load_gold(path, split)
    except OSError as exc:
        raise GoldFileError(f"cannot read gold file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise GoldFileError(f"gold file {path} is not UTF-8 text") from exc
    except ValueError as exc:
        raise GoldFileError(str(exc).splitlines()[0]) from exc
    if not items:
        raise GoldFileError(f"no gold questions in split {split!r} of {path}")
    return items


def calibrate(
    suite: Suite, service: QAService, calibration_file: Path | None = None
) -> ThresholdChoice:
    """Fit the abstention threshold on our results and save it with the figures behind it.

    Abstention is ``confidence < threshold``, so the recorded confidences are enough; the
    answers themselves are not re-scored at the new threshold.
    """
    main = next(iter(suite.systems.values()))
    choice = fit_threshold(
        [r.confidence for r in main.results], [not r.answerable for r in main.results]
    )
    record: dict[str, Any] = {
        "gold": suite.gold,
        "split": suite.split,
        "questions": len(main.results),
        "rule": (
            "highest abstention recall with false-abstention rate <= "
            f"{choice.max_false_abstention}; ties to the lower threshold"
        ),
        **asdict(choice),
    }
    note = (f"threshold from qa eval --calibrate on {suite.gold} ({suite.split}): "
            f"{record['rule']}")
    save_model(replace(service.model, threshold=choice.threshold), note, calibration_file)
    return choice


def _calibration_note(choice: ThresholdChoice, split: str) -> str:
    warning = "" if split == "dev" else f" (warning: fitted on {split!r}; tune on dev only)"
    return (
        f"abstention threshold set to {choice.threshold:g}{warning}: on {split}, "
        f"abstention recall {choice.abstention_recall:.3f}, precision "
        f"{choice.abstention_precision:.3f}, false-abstention rate "
        f"{choice.false_abstention_rate:.3f} (limit {choice.max_false_abstention})"
    )


def headline_text(suite: Suite) -> str:
    """The headline table as aligned plain text, one column per system."""
    main = next(iter(suite.systems.values())).metrics
    header = ["metric", *suite.systems]
    rows = [header, *headline_rows(suite)]
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    lines = [
        f"{suite.gold} · split {suite.split} · {main.questions} questions "
        f"({main.answerable} answerable, {main.unanswerable} unanswerable) · k={suite.k} · "
        f"abstain threshold {suite.threshold:g}",
        "",
    ]
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            v.rjust(w) for v, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    if main.llm_verified is not None:
        lines += ["", "model answers (answerer llm): " + ", ".join(
            f"{name} {getattr(main, 'llm_' + name) or 0.0:.3f}"
            for name in ("verified", "unverified", "abstained", "failed")
        ) + " (shares of the questions; unverified ones are scored on the reader's answer)"]
    return "\n".join(lines)
