"""Check a gold file against the one document it asks about.

    python3 -m eval.gold_check data/gold/NAME.jsonl            # document data/docs/NAME.txt
    python3 -m eval.gold_check GOLD --doc DOC.txt
    python3 -m eval.gold_check --all                          # every file of data/gold/

Rules (each broken rule is one line naming the item; exit 1 when any is broken):

* every line is a JSON object with ``id``, ``question``, ``answers``, ``evidence``, ``type``;
* ids are unique in the file; the question is a question (ends with ``?``);
* an answerable item's evidence is verbatim in the document and each answer is verbatim in
  the evidence (exact, case included); answers are short (at most 25 words);
* an unanswerable item has ``answers: []``, ``evidence: null`` and type ``unanswerable``;
* ``type`` is one of :data:`TYPES`.

Standard library only, so it runs before the project is installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
TYPES = frozenset({"what", "which", "who", "when", "where", "why", "how", "how_many",
                   "how_much", "unanswerable"})
MAX_ANSWER_WORDS = 25


def check_items(lines: list[str], document: str) -> list[str]:
    """The broken rules of a gold file's lines against its document, one message each."""
    problems: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not JSON ({exc.msg})")
            continue
        if not isinstance(item, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        missing = [k for k in ("id", "question", "answers", "evidence", "type") if k not in item]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}")
            continue
        where = f"line {number} ({item['id']})"
        problems.extend(f"{where}: {p}" for p in _item_problems(item, document, seen))
    return problems


def _item_problems(item: dict[str, object], document: str, seen: set[str]) -> list[str]:
    out: list[str] = []
    ident, question, answers, evidence, kind = (item["id"], item["question"], item["answers"],
                                                 item["evidence"], item["type"])
    if not isinstance(ident, str) or not ident:
        out.append("id must be a non-empty string")
    elif ident in seen:
        out.append("duplicate id")
    else:
        seen.add(ident)
    if not isinstance(question, str) or not question.strip().endswith("?"):
        out.append("question must be a string ending with '?'")
    if kind not in TYPES:
        out.append(f"type {kind!r} is not one of {sorted(TYPES)}")
    if not isinstance(answers, list) or not all(isinstance(a, str) and a for a in answers):
        out.append("answers must be a list of non-empty strings")
        return out
    if not answers:
        if evidence is not None:
            out.append("an unanswerable item has evidence null")
        if kind != "unanswerable":
            out.append("an item without answers has type 'unanswerable'")
        return out
    if kind == "unanswerable":
        out.append("type 'unanswerable' but answers given")
    if not isinstance(evidence, str) or not evidence:
        out.append("an answerable item needs its evidence")
        return out
    if evidence not in document:
        out.append("evidence is not verbatim in the document")
    for answer in answers:
        if answer not in evidence:
            out.append(f"answer {answer!r} is not verbatim in the evidence")
        if len(answer.split()) > MAX_ANSWER_WORDS:
            out.append(f"answer {answer[:40]!r}... is over {MAX_ANSWER_WORDS} words")
    return out


def check_file(gold: Path, doc: Path) -> list[str]:
    """The problems of one gold file (empty when it is valid)."""
    lines = gold.read_text(encoding="utf-8").splitlines()
    return check_items(lines, doc.read_text(encoding="utf-8"))


def document_of(gold: Path) -> Path:
    """The document a gold file of ``data/gold/`` asks about: ``data/docs/<same name>.txt``."""
    return DATA / "docs" / f"{gold.stem}.txt"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m eval.gold_check", description=__doc__.split("\n")[0])
    parser.add_argument("gold", nargs="*", type=Path)
    parser.add_argument("--doc", type=Path, help="the document (default: data/docs/<name>.txt)")
    parser.add_argument("--all", action="store_true", help="every file of data/gold/")
    args = parser.parse_args(argv)
    files = sorted((DATA / "gold").glob("*.jsonl")) if args.all else list(args.gold)
    if not files:
        parser.error("name a gold file or --all")
    bad = 0
    total = 0
    for gold in files:
        doc = args.doc or document_of(gold)
        problems = check_file(gold, doc)
        total += sum(1 for line in gold.read_text(encoding="utf-8").splitlines() if line.strip())
        for p in problems:
            print(f"{gold.name}: {p}")
        bad += len(problems)
    print(f"{len(files)} file(s), {total} item(s), {bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
