"""File-system errors on the index folder, told as one line that names it and its setting."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from index.errors import IndexFolderError

FOLDER_HINT = "set QA_INDEX_DIR (or --index-dir) to a folder you can read and write"


@contextlib.contextmanager
def folder_errors(index_dir: Path) -> Iterator[None]:
    """Turn a file-system error on the index folder into one ``IndexFolderError`` naming it.

    Permissions, a file where the folder should be, a full disk or a read-only mount: the
    message says which folder (and file), why, and which setting to change.
    """
    try:
        yield
    except OSError as exc:
        raise IndexFolderError(folder_problem(index_dir, exc)) from exc


def folder_problem(index_dir: Path, exc: OSError) -> str:
    """The one-line description of a file-system error on the index folder."""
    try:
        not_a_folder = index_dir.exists() and not index_dir.is_dir()
    except OSError:
        not_a_folder = False
    if not_a_folder:
        why = "it is not a folder"
    else:
        why = exc.strerror or str(exc)
        if exc.filename is not None and str(exc.filename) != str(index_dir):
            why += f" ({exc.filename})"
    return f"the index folder {index_dir} cannot be used: {why}; {FOLDER_HINT}"
