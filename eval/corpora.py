"""Every gold set on its own corpus, and all of them on one index of every document.

    python -m eval.corpora --split test          # a Markdown table per document
    python -m eval.corpora --split dev --json

Corpora: the chapter (``corpus/`` with ``eval/gold.jsonl``) and each ``eval/corpora/<name>/``
(``corpus/`` with ``gold.jsonl``). Each is indexed under ``.qa_index/eval/<name>``; the
combined run copies every document into one corpus (``.qa_index/eval/combined``) so the
answer must come from, and cite, the right document among all of them.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from eval.aggregate import by_answer_type, by_document
from eval.gold import load_gold
from eval.results import Suite
from eval.runner import run_suite
from qa.service import QAService
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
HEADLINE = ("accuracy", "exact_match", "f1", "hit_at_1", "hit_at_5", "abstention_recall",
            "false_abstention_rate", "citation_verification", "citation_precision")


def corpora(root: Path = ROOT) -> list[tuple[str, Path, Path]]:
    """(name, corpus folder, gold file) of the chapter and of every eval corpus."""
    found = [("chapter", root / "corpus", root / "eval" / "gold.jsonl")]
    for folder in sorted((root / "eval" / "corpora").glob("*/")):
        if (folder / "gold.jsonl").is_file() and (folder / "corpus").is_dir():
            found.append((folder.name, folder / "corpus", folder / "gold.jsonl"))
    return found


def open_service(corpus: Path, index_dir: Path, **extra: Any) -> QAService:
    """A service over one corpus folder with its own index folder (built when needed)."""
    overrides: dict[str, Any] = {"corpus_dir": corpus, "index_dir": index_dir, **extra}
    service = QAService(Settings(**overrides))
    service.open()
    return service


def combined_corpus(target: Path, root: Path = ROOT) -> Path:
    """A corpus folder holding a copy of every document of every corpus."""
    folder = target / "corpus"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for _, corpus, _ in corpora(root):
        for path in sorted(corpus.iterdir()):
            if path.is_file() and path.suffix in (".txt", ".md"):
                shutil.copy2(path, folder / path.name)
    return folder


def document_set(split: str, target: Path, root: Path = ROOT) -> tuple[Path, Path] | None:
    """The written documents of one split of ``data/split.json`` as one corpus folder and
    one gold file (ids prefixed with the document, every item in ``split``), or None when
    none of them has questions yet."""
    names = json.loads((root / "data" / "split.json").read_text("utf-8"))[split]
    written = [n for n in names if (root / "data" / "gold" / f"{n}.jsonl").is_file()]
    if not written:
        return None
    folder = target / "corpus"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    lines = []
    for name in written:
        shutil.copy2(root / "data" / "docs" / f"{name}.txt", folder / f"{name}.txt")
        for line in (root / "data" / "gold" / f"{name}.jsonl").read_text("utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                item.update(id=f"{name}#{item['id']}", split=split, doc_id=f"{name}.txt")
                lines.append(json.dumps(item, ensure_ascii=False))
    gold = target / "gold.jsonl"
    gold.write_text("\n".join(lines) + "\n", "utf-8")
    return folder, gold


def run_all(split: str, k: int = 5, combined: bool = True, documents: bool = True,
            by_type: bool = False, **settings: Any) -> dict[str, dict[str, Any]]:
    """Headline metrics of our system per corpus, on the written documents of the split
    (all indexed together), and, with ``combined``, per gold set on the index of all
    documents. ``settings`` override the service's settings (e.g. ``reader="span"``)."""
    index_root = ROOT / ".qa_index" / "eval"
    out: dict[str, dict[str, Any]] = {}
    suites: list[tuple[str, Suite]] = []
    for name, corpus, gold in corpora():
        service = open_service(corpus, index_root / name, **settings)
        suites.append((name, run_suite(service, load_gold(gold, split), gold=str(gold),
                                       split=split, k=k, systems=("hybrid",))))
    if documents and split in ("dev", "test"):
        found = document_set(split, index_root / f"documents-{split}")
        if found is not None:
            corpus, gold = found
            service = open_service(corpus, index_root / f"documents-{split}" / "index",
                                   **settings)
            suites.append((f"{split} documents", run_suite(
                service, load_gold(gold, split), gold=str(gold), split=split, k=k,
                systems=("hybrid",))))
    if combined:
        corpus = combined_corpus(index_root / "combined")
        service = open_service(corpus, index_root / "combined" / "index", **settings)
        for name, _, gold in corpora():
            suites.append((f"{name} (all documents indexed)", run_suite(
                service, load_gold(gold, split), gold=str(gold), split=split, k=k,
                systems=("hybrid",))))
    for name, suite in suites:
        run = next(iter(suite.systems.values()))
        metrics = run.metrics.to_dict()
        out[name] = {"questions": metrics["questions"], "answerable": metrics["answerable"],
                     **{key: metrics[key] for key in HEADLINE}}
        if by_type:
            for kind, m in by_answer_type(run.results).items():
                d = m.to_dict()
                out[f"  {name}: {kind}"] = {"questions": d["questions"],
                                            "answerable": d["answerable"],
                                            **{key: d[key] for key in HEADLINE}}
        if name.endswith(" documents"):
            for doc, m in by_document(run.results).items():
                d = m.to_dict()
                out[f"  {doc}"] = {"questions": d["questions"], "answerable": d["answerable"],
                                   **{key: d[key] for key in HEADLINE}}
    return out


def split_listing(root: Path = ROOT, names: bool = True) -> str:
    """The split of the written documents (``data/split.json``): counts, and each name."""
    split = json.loads((root / "data" / "split.json").read_text("utf-8"))
    lines = ["Documents split by document (data/split.json): "
             + ", ".join(f"{len(split[k])} {k}" for k in ("train", "dev", "test"))
             + "; the chapter, camp-david and us-vietnam keep their question-level split."]
    if names:
        for k in ("dev", "test", "train"):
            lines.append(f"\n{k}:")
            lines.extend(f"  {n}" for n in split[k])
    return "\n".join(lines)


def markdown(rows: dict[str, dict[str, Any]], split: str) -> str:
    """The figures as a Markdown table, one row per corpus."""
    names = ["strict acc.", "EM", "F1", "hit@1", "hit@5", "abst. recall", "false abst.",
             "citations verified", "citation precision"]
    lines = [f"| {split} split | questions | " + " | ".join(names) + " |",
             "|---|---|" + "---|" * len(names)]
    for name, row in rows.items():
        cells = ["n/a" if row[k] is None else f"{row[k]:.3f}" for k in HEADLINE]
        lines.append(f"| {name} | {row['answerable']} + {row['questions'] - row['answerable']} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="test")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-combined", action="store_true", help="skip the all-documents run")
    parser.add_argument("--no-documents", action="store_true",
                        help="skip the written documents of data/split.json")
    parser.add_argument("--reader", choices=("span", "features"), default=None,
                        help="the reader (default: the settings' QA_READER)")
    parser.add_argument("--by-type", action="store_true",
                        help="also a row per answer type of each gold set")
    parser.add_argument("--show-split", action="store_true",
                        help="print the document split of data/split.json and stop")
    args = parser.parse_args(argv)
    if args.show_split:
        print(split_listing())
        return 0
    extra = {"reader": args.reader} if args.reader else {}
    rows = run_all(args.split, args.k, combined=not args.no_combined,
                   documents=not args.no_documents, by_type=args.by_type, **extra)
    print(json.dumps(rows, indent=1) if args.json
          else split_listing(names=False) + "\n\n" + markdown(rows, args.split))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
