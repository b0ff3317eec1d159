"""The ``qa`` command: index, ask, search, eval, serve.

Errors from the core are translated here, and only here, into one line on stderr and a
non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="Ask questions of your documents; every answer cites its source."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--corpus", type=Path, help="corpus folder (default: ./corpus)")
        p.add_argument("--index-dir", type=Path, help="index folder (default: ./.qa_index; "
                       "with --corpus, a folder of its own under it)")

    p = sub.add_parser("index", help="build the index (or check it with --check)")
    common(p)
    p.add_argument("--force", action="store_true", help="rebuild even if the index is current")
    p.add_argument("--check", action="store_true", help="say whether the index is current")

    for name, helptext in (
        ("ask", "answer a question with citations"),
        ("search", "list the passages that match a query"),
    ):
        p = sub.add_parser(name, help=helptext)
        common(p)
        p.add_argument("question", help="the question or query, in quotes")
        p.add_argument("--k", type=int, default=None, help="passages to return (1-50)")
        p.add_argument("--json", action="store_true", help="print JSON")
        if name == "ask":
            p.add_argument("--llm", action="store_true",
                           help="have the model of QA_LLM_URL write the answer (shown only "
                           "when its quotes are found in the sources)")

    p = sub.add_parser("eval", help="run the evaluation suite on gold questions")
    common(p)
    p.add_argument("--gold", type=Path, default=None, help="gold JSONL file")
    p.add_argument("--split", default="all", choices=("dev", "test", "all"))
    p.add_argument("--k", type=int, default=10, help="passages retrieved per question")
    p.add_argument("--json", action="store_true", help="print all metrics as JSON")
    p.add_argument("--report", type=Path, default=None, help="write a report to this folder")
    p.add_argument("--no-baselines", action="store_true", help="evaluate only the main system")
    p.add_argument("--answerer", choices=("extractive", "llm"), default="extractive",
                   help="who writes the answers: the reader (default) or the model of "
                   "QA_LLM_URL (then without baselines)")
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="fit the abstention threshold on this split and save it (use dev)",
    )

    p = sub.add_parser("serve", help="run the HTTP API and web page")
    common(p)
    p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000)")
    return parser


def shown(text: str) -> str:
    """Text as one line on a terminal: control characters (newline, ESC) and undecodable
    bytes escaped, so a file name cannot fake output lines or colour the terminal."""
    from index.documents.corpus import printable_path

    return printable_path(text)


def _settings(args: argparse.Namespace) -> Any:
    from qa.settings import Settings

    overrides: dict[str, Any] = {}
    if getattr(args, "corpus", None) is not None:
        overrides["corpus_dir"] = args.corpus
    if getattr(args, "index_dir", None) is not None:
        overrides["index_dir"] = args.index_dir
    for name in ("host", "port"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    settings = Settings(**overrides)
    if "corpus_dir" in overrides and "index_dir" not in overrides:
        # Another corpus gets an index of its own, so the default one is not rebuilt.
        settings = settings.model_copy(update={"index_dir": corpus_index_dir(settings)})
    return settings


def corpus_index_dir(settings: Any) -> Path:
    """The index folder of a corpus given with --corpus: ``<index_dir>/corpora/<name>-<hash>``."""
    import hashlib

    resolved = str(Path(settings.corpus_dir).resolve())
    digest = hashlib.sha256(resolved.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(resolved).name)[:40]
    return Path(settings.index_dir) / "corpora" / f"{name or 'corpus'}-{digest}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qa`` console script."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = _parser().parse_args(argv)
    from pydantic import ValidationError

    from index.errors import QAError

    try:
        handler = {
            "index": cmd_index,
            "ask": cmd_ask,
            "search": cmd_search,
            "eval": cmd_eval,
            "serve": cmd_serve,
        }[args.command]
        return handler(args)
    except QAError as exc:
        print(f"qa: error: {shown(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except ValidationError as exc:  # a QA_* environment variable with an unusable value
        error = exc.errors()[0]
        name = "QA_" + "_".join(str(part) for part in error.get("loc", ())).upper()
        print(f"qa: error: {name}: {error.get('msg', 'invalid value')}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


def cmd_index(args: argparse.Namespace) -> int:
    """``qa index``: build, force a rebuild, or check."""
    from index.documents.corpus import WARNING
    from qa.service import QAService

    service = QAService(_settings(args))
    status = service.status(cache=True)
    if args.check:
        if status.current:
            print(f"index is current ({service.settings.index_dir})")
            return 0
        print("index is stale or damaged: " + shown("; ".join(status.reasons)))
        return 1
    if status.current and not args.force:
        print(f"index is current ({service.settings.index_dir}); use --force to rebuild")
        return 0
    report = service.build(progress=True)
    for notice in report.notices:
        print(f"warning: {shown(notice)}", file=sys.stderr)
    for skipped in report.skipped:
        label, reason = "skipped", skipped.reason
        if reason.startswith(WARNING):
            label, reason = "warning", reason.removeprefix(WARNING)
        print(f"{label} {shown(skipped.path)}: {shown(reason)}", file=sys.stderr)
    print(report.summary())
    return 0


def _open_service(args: argparse.Namespace) -> Any:
    from index.documents.corpus import check_corpus
    from index.text.nlp import load_nlp
    from qa.service import QAService

    service = QAService(_settings(args))
    status = service.status()
    if not status.current:
        # Fail on an unusable corpus or NLP pipeline with one line, before announcing a build.
        check_corpus(service.settings.corpus_dir, service.settings.build_config().max_file_bytes)
        load_nlp(service.settings.nlp_model)
        print("building the index: " + shown("; ".join(status.reasons)), file=sys.stderr)
    service.open(rebuild=True, progress=not status.current)
    return service


def cmd_ask(args: argparse.Namespace) -> int:
    """``qa ask``: print the answer and its citations."""
    from qa.questions import check_question

    settings = _settings(args)
    check_question(args.question, settings.max_question_chars)  # before any index work
    answerer = "llm" if args.llm else "extractive"
    if args.llm:
        settings.llm_endpoint(required=True)  # no endpoint: one line, before any index work
    service = _open_service(args)
    started = time.perf_counter()
    answer = service.ask(args.question, k=args.k, answerer=answerer)
    elapsed = (time.perf_counter() - started) * 1000
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    _print_answer(answer, elapsed)
    return 0


def _print_answer(answer: Any, elapsed: float) -> None:
    """The answer, its citations (saying who quoted each) and the passages, as text."""
    width = 88
    check = answer.llm
    if check is not None and check.outcome == "unverified":
        print(f"Note: {shown(check.reason)}.")
        print("The extractive reader's answer is shown instead.\n")
    if answer.abstained:
        who = "the model" if check is not None and check.outcome == "abstained" else "the reader"
        print("Not found in the sources.")
        if answer.confidence is None:
            print(f"({who} found no answer; the nearest passages are listed below)")
        else:
            print(f"(confidence {answer.confidence:.2f}; the nearest passages are listed below)")
    else:
        if check is not None and check.outcome == "verified":
            print(f"Answer (written by {shown(check.model)}; every quote found in the sources):")
            for line in answer.answer.splitlines():
                print(f"  {shown(line)}")
            print(f"({elapsed:.0f} ms)")
        else:
            print(f"Answer: {answer.answer}")
            print(f"(confidence {answer.confidence:.2f}, {elapsed:.0f} ms)")
        print("\nCitations:")
        for n, c in enumerate(answer.citations, 1):
            by = "quoted by the model" if c.source == "model" else "cut by the reader"
            print(f"[{n}] {_with_pages(shown(c.section), c.page_start, c.page_end)}")
            print(f"    {shown(c.doc_id)} characters {c.start}-{c.end} ({by})")
            print(
                textwrap.fill(
                    f"“{c.quote}”", width, initial_indent="    ", subsequent_indent="    "
                )
            )
    print("\nPassages:")
    for n, p in enumerate(answer.passages, 1):
        snippet = " ".join(p.text.split())
        snippet = snippet[:160] + ("…" if len(snippet) > 160 else "")
        print(f"{n}. {_with_pages(shown(p.section), p.page_start, p.page_end)} "
              f"[{shown(p.doc_id)}:{p.start}-{p.end}]")
        print(textwrap.fill(snippet, width, initial_indent="   ", subsequent_indent="   "))


def _with_pages(section: str, page_start: int | None, page_end: int | None) -> str:
    """The section path with "p. 37" / "pp. 37–38" beside it for a PDF."""
    from qa.records import page_label

    label = page_label(page_start, page_end)
    heading = section or "(no section heading)"
    return f"{heading} · {label}" if label else heading


def cmd_search(args: argparse.Namespace) -> int:
    """``qa search``: ranked passages."""
    from qa.questions import check_question

    settings = _settings(args)
    check_question(args.question, settings.max_question_chars)  # before any index work
    service = _open_service(args)
    passages = service.search(args.question, k=args.k)
    if args.json:
        from dataclasses import asdict

        print(json.dumps([asdict(p) for p in passages], ensure_ascii=False, indent=2))
        return 0
    for n, p in enumerate(passages, 1):
        print(f"{n}. [{p.score:.4f}] {_with_pages(shown(p.section), p.page_start, p.page_end)} "
              f"[{shown(p.doc_id)}:{p.start}-{p.end}]")
        print(
            textwrap.fill(
                " ".join(p.text.split()), 88, initial_indent="   ", subsequent_indent="   "
            )
        )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """``qa eval``: metrics for ours and the baselines."""
    from eval.cli import read_gold, run_eval_command

    read_gold(args.gold or _default_gold(), args.split)  # a bad gold file fails before any build
    status: int = run_eval_command(args, _open_service(args))
    return status


def _default_gold() -> Path:
    from eval.gold import default_gold_path

    return default_gold_path()


def cmd_serve(args: argparse.Namespace) -> int:
    """``qa serve``: the HTTP API and web page."""
    from api.server import serve

    status: int = serve(_settings(args))
    return status


if __name__ == "__main__":
    sys.exit(main())
