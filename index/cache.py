"""The build cache: results of the expensive build steps, kept in the index folder and
found again by what decides them, so a rebuild computes only what is new.

Layout (``<index_dir>/cache/``)::

    <step>/<space>/<name>     one entry: a header line, then its payload
    <step>/<space>/<name>.<rand>.tmp   an entry being written (or left by a killed build)

``step`` is ``extract``, ``embed`` or ``annotate``; ``space`` is a digest of what decides
every result of that step besides the input (extractor settings and code, model files,
pipeline name and version), so entries of another model or extractor are never read.
The header holds the SHA-256 of the payload: an entry whose payload does not match is
damaged, and is deleted and recomputed, never used. An entry is written to a ``.tmp``
file and renamed, so a build killed while writing leaves no entry at all under its name;
entries are not fsynced (after a power cut one may be empty: its checksum tells).
Each use touches an entry's modification time; past the size bound the entries unused
longest are deleted (``prune``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

CACHE_DIR = "cache"
STEPS = ("extract", "embed", "annotate")
_MAGIC = b"citeqa-cache-1 "


def digest_of(*parts: str | bytes) -> str:
    """A hex SHA-256 of the parts, each length-prefixed (no two part lists collide)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def read_packs(owners: Iterable[str], read: Callable[[str], dict[K, V]]
               ) -> tuple[dict[K, V], dict[str, set[K]]]:
    """Read each document's entry once (``read(owner)``): everything they hold by key,
    and the keys each one holds (to tell later which entries changed)."""
    known: dict[K, V] = {}
    stored: dict[str, set[K]] = {}
    for owner in dict.fromkeys(owners):
        found = read(owner)
        stored[owner] = set(found)
        known.update(found)
    return known, stored


def changed_packs(keys: Sequence[K], owners: Sequence[str], stored: dict[str, set[K]]
                  ) -> dict[str, list[K]]:
    """The documents whose keys differ from what their entry holds, each with its keys in
    first-seen order (the entries to rewrite)."""
    wanted: dict[str, dict[K, None]] = {}
    for key, owner in zip(keys, owners, strict=True):
        wanted.setdefault(owner, {})[key] = None
    return {owner: list(own) for owner, own in wanted.items() if set(own) != stored.get(owner)}


class BuildCache:
    """Entries in ``<index_dir>/cache``; reading never raises, writing is best effort.

    Args:
        index_dir: the index folder.
        max_bytes: the size bound of ``prune``; 0 turns the cache off (nothing is read
            or written).
    """

    def __init__(self, index_dir: Path, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be 0 (off) or more")
        self.root = index_dir / CACHE_DIR
        self.max_bytes = max_bytes
        self.damaged: list[str] = []  # entries found damaged (and deleted) by this build
        self._read: set[Path] = set()  # entries read and verified by this build
        self.computed: Counter[str] = Counter()  # results computed (not found) by step

    @property
    def enabled(self) -> bool:
        """Whether entries are read and written."""
        return self.max_bytes > 0

    def path(self, step: str, space: str, name: str) -> Path:
        """Where an entry lives."""
        if step not in STEPS:
            raise ValueError(f"unknown cache step {step!r}; choose one of {', '.join(STEPS)}")
        return self.root / step / space[:32] / name

    def get(self, step: str, space: str, name: str) -> bytes | None:
        """The payload of an entry, or None when it is missing or damaged (then deleted)."""
        if not self.enabled:
            return None
        path = self.path(step, space, name)
        try:
            payload = read_entry(path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            self.damaged.append(path.relative_to(self.root).as_posix())
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        self._read.add(path)
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: the last to be pruned
        return payload

    def put(self, step: str, space: str, name: str, payload: bytes) -> None:
        """Write an entry (a failure to write only costs the recomputation next time)."""
        if not self.enabled:
            return
        path = self.path(step, space, name)
        temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        header = _MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as handle:
                handle.write(header + payload)
            os.replace(temporary, path)
            self._read.add(path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()

    def prune(self) -> int:
        """Delete leftovers of killed builds, damaged entries, and the entries unused
        longest until the cache fits its bound. Call it holding the build lock.

        Returns:
            How many entries were deleted.
        """
        if not self.root.is_dir():
            return 0
        if not self.enabled:
            shutil.rmtree(self.root, ignore_errors=True)
            return 0
        entries: list[tuple[float, int, Path]] = []
        deleted = 0
        for path in _files(self.root):
            try:
                if path.name.endswith(".tmp") or (path not in self._read and not _intact(path)):
                    path.unlink()
                    deleted += 1
                    continue
                stat = path.stat()
            except OSError:
                continue
            entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries, key=lambda e: (e[0], e[2])):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                deleted += 1
            total -= size
        return deleted


def read_entry(path: Path) -> bytes:
    """The checked payload of an entry file.

    Raises:
        FileNotFoundError: there is no such entry.
        ValueError: the entry is damaged (header or checksum).
    """
    data = path.read_bytes()
    head, _, payload = data.partition(b"\n")
    if not head.startswith(_MAGIC):
        raise ValueError("not a cache entry")
    if hashlib.sha256(payload).hexdigest().encode() != head[len(_MAGIC):]:
        raise ValueError("checksum mismatch")
    return payload


def _intact(path: Path) -> bool:
    """Whether an entry reads back whole (one deleted meanwhile, by a build, is not damaged)."""
    try:
        read_entry(path)
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    return True


def _files(root: Path) -> Iterator[Path]:
    for folder, _, names in os.walk(root):
        for name in names:
            yield Path(folder) / name


def damaged_entries(index_dir: Path) -> list[str]:
    """The cache entries of an index folder whose checksum does not match (for
    ``qa index --check``), as paths relative to the index folder."""
    root = index_dir / CACHE_DIR
    if not root.is_dir():
        return []
    return sorted(
        p.relative_to(index_dir).as_posix()
        for p in _files(root)
        if not p.name.endswith(".tmp") and not _intact(p)
    )


def cache_bytes(index_dir: Path) -> int:
    """The size of an index folder's cache, for reports."""
    root = index_dir / CACHE_DIR
    return sum(p.stat().st_size for p in _files(root)) if root.is_dir() else 0
