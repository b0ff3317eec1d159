"""A bounded pool for reading corpus files: at most ``workers`` files at once, each PDF or
HTML file in its own extraction child (``index.documents.extract.bounded``) with its own time and
memory bounds, results in the order of the input whatever order they finish in."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def default_workers() -> int:
    """The pool size when ``QA_BUILD_WORKERS`` is unset: the number of cores."""
    return os.cpu_count() or 1


def map_bounded(
    func: Callable[[Item], Result], items: Sequence[Item], workers: int,
    on_done: Callable[[Result], None] | None = None,
) -> list[Result]:
    """``[func(item) for item in items]`` with at most ``workers`` calls running at once.

    The calls run on threads: the work of a PDF or HTML file happens in a child process,
    so threads are enough to keep ``workers`` of them busy. ``func`` should not raise
    (the readers return the reason instead); if it does, the first error is raised after
    the calls already started have finished.

    Args:
        func: reads one item.
        items: the items, in the order the results are returned.
        workers: the bound (1: one after the other, in this thread).
        on_done: called with each result as it finishes (for a progress bar).
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    done = on_done or (lambda _result: None)
    if workers == 1 or len(items) <= 1:
        results = []
        for item in items:
            results.append(func(item))
            done(results[-1])
        return results
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="extract") as pool:
        futures = {pool.submit(func, item): n for n, item in enumerate(items)}
        ordered: list[Result | None] = [None] * len(items)
        for future in as_completed(futures):
            ordered[futures[future]] = future.result()
            done(future.result())
    return ordered  # type: ignore[return-value]  # every slot was filled
