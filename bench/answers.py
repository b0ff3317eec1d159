"""Every gold answer of every corpus, dumped to compare two versions question by question.

    .venv/bin/python bench/answers.py --split dev --out dev.json      # dump (any checkout)
    .venv/bin/python bench/answers.py --compare old.json new.json     # list the differences

Run it as a script from the checkout to measure (``cd old && .venv/bin/python
/path/to/bench/answers.py ...``): it imports only what every version has (``eval.corpora``,
``eval.gold``), builds each corpus's index under that checkout's ``.qa_index/answers/``,
and records per question the answer, abstention, confidence, citations and passages, for
each corpus on its own and on the index of all documents, as ``eval.corpora`` runs them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path.cwd()))  # the checkout being measured, not this file's folder


def dump(split: str, k: int) -> dict[str, dict[str, Any]]:
    """{run name: {question id: answer record}} for every corpus, alone and combined."""
    from eval.corpora import combined_corpus, corpora, open_service
    from eval.gold import load_gold

    root = Path.cwd() / ".qa_index" / "answers"
    runs = [(name, open_service(corpus, root / name, cache_size=0), gold)
            for name, corpus, gold in corpora()]
    combined = open_service(combined_corpus(root / "combined"), root / "combined" / "index",
                            cache_size=0)
    runs += [(f"{name} (all documents)", combined, gold) for name, _, gold in corpora()]
    out: dict[str, dict[str, Any]] = {}
    for name, service, gold in runs:
        out[name] = {item.id: record(service.ask(item.question, k=k))
                     for item in load_gold(gold, split)}
    return out


def record(answer: Any) -> dict[str, Any]:
    """The parts of an answer a user sees."""
    return {
        "answer": answer.answer,
        "abstained": answer.abstained,
        "confidence": round(answer.confidence, 3),
        "citations": [[c.doc_id, c.start, c.end] for c in answer.citations],
        "passages": [p.chunk_id for p in answer.passages],
    }


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One line per question whose answer, abstention, citations or passages differ."""
    lines = []
    for run in sorted(set(old) | set(new)):
        a, b = old.get(run, {}), new.get(run, {})
        for qid in sorted(set(a) | set(b)):
            x, y = a.get(qid), b.get(qid)
            if x is None or y is None:
                lines.append(f"{run} {qid}: only in {'new' if x is None else 'old'}")
                continue
            fields = [f for f in ("answer", "abstained", "citations", "passages") if x[f] != y[f]]
            if fields:
                lines.append(f"{run} {qid}: {', '.join(fields)} differ: "
                             f"{x['answer']!r} ({x['confidence']}) -> {y['answer']!r} "
                             f"({y['confidence']})")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"))
    args = parser.parse_args(argv)
    if args.compare:
        old, new = (json.loads(p.read_text("utf-8")) for p in args.compare)
        differences = compare(old, new)
        total = sum(len(run) for run in new.values())
        print("\n".join(differences))
        print(f"{len(differences)} of {total} answers differ")
        return 0
    result = dump(args.split, args.k)
    text = json.dumps(result, indent=1, ensure_ascii=False)
    if args.out:
        args.out.write_text(text, "utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
