"""Small measuring helpers shared by the benchmarks: timers, percentiles, memory."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

REPO = Path(__file__).resolve().parents[1]
GOLD = REPO / "eval" / "gold.jsonl"
CORPUS = REPO / "corpus"

T = TypeVar("T")


def latency(samples_ms: Iterable[float]) -> dict[str, float]:
    """p50, p95 and mean of latencies in milliseconds, and how many there were."""
    values = np.asarray(list(samples_ms), dtype=np.float64)
    if values.size == 0:
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "mean": float("nan")}
    return {
        "n": int(values.size),
        "p50": round(float(np.percentile(values, 50)), 3),
        "p95": round(float(np.percentile(values, 95)), 3),
        "mean": round(float(values.mean()), 3),
    }


def time_each(items: Iterable[T], call: Callable[[T], Any]) -> list[float]:
    """Milliseconds ``call`` took for each item, one at a time."""
    out = []
    for item in items:
        started = time.perf_counter()
        call(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def seconds(call: Callable[[], T]) -> tuple[T, float]:
    """The result of ``call()`` and the seconds it took."""
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def rss_bytes() -> int:
    """Resident memory of this process now (Linux /proc)."""
    with open("/proc/self/statm") as handle:
        resident_pages = int(handle.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def gold_questions(limit: int, path: Path = GOLD) -> list[str]:
    """The first ``limit`` distinct questions of the gold set."""
    seen: dict[str, None] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                seen.setdefault(json.loads(line)["question"], None)
            if len(seen) >= limit:
                break
    return list(seen)


def ratio(value: float, floor: float) -> float:
    """value / floor, rounded (inf when the floor is zero)."""
    return round(value / floor, 3) if floor > 0 else float("inf")


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    info: dict[str, Any] = {"cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M %Z")}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        info["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info
