"""Milvus Lite through the real ``qa`` command, one process after another (issue 24).

Every command runs in a process of its own, as a user runs them: a collection built by one
process is searched by the next (Milvus Lite opens it released), a damaged database is
moved aside by a rebuild, and a database another process holds is one error line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHAPTER
from tests.helpers.procs import (
    REPO,
    free_port,
    offline_env,
    qa_command,
    run_qa,
    start_qa,
    stop,
    wait_until,
)
from tests.helpers.servers import request

FILES = {
    "a.txt": "1 First\nThe first report was filed in 2001. It covers harbour dredging.\n",
    "b.txt": "2 Second\nThe second report was filed in 2002. It covers grain storage.\n",
}
ENV = {"QA_BACKEND": "milvus", "QA_MODEL": "hashing-64", "QA_CHUNK_TOKENS": "24"}
QUESTION = "When was the first report filed?"


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A folder with a small corpus; the index goes to ``index/`` beside it."""
    (tmp_path / "corpus").mkdir()
    for name, text in FILES.items():
        (tmp_path / "corpus" / name).write_text(text, "utf-8")
    return tmp_path


def qa(world: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``qa <args>`` on the world's corpus and index, Milvus Lite, in a new process."""
    return run_qa(*args, "--corpus", world / "corpus", "--index-dir", world / "index", **ENV)


def assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    """Succeeded, and nothing a library logged reached the terminal."""
    assert result.returncode == 0, result.stderr
    for noise in ("Traceback", "RPC error", "[ERROR]", "MilvusException"):
        assert noise not in result.stderr + result.stdout


def assert_one_error_line(result: subprocess.CompletedProcess[str], *parts: str) -> str:
    """Failed with exactly one line on stderr, ``qa: error: ...`` holding every part."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("qa: error: ")
    for part in parts:
        assert part in lines[0]
    return lines[0]


def answered(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert_clean(result)
    answer: dict[str, Any] = json.loads(result.stdout)
    assert answer["citations"] and answer["answer"] in {"2001", "2002"}
    return answer


def ready(port: int) -> bool:
    try:
        return request(port, "GET", "/ready", timeout=2)[0] == 200
    except OSError:
        return False


@contextmanager
def serving(world: Path, log: Path) -> Iterator[int]:
    """``qa serve`` on the world in its own process, until the block ends; yields the port."""
    port = free_port()
    server = start_qa("serve", "--port", str(port), "--corpus", world / "corpus",
                      "--index-dir", world / "index", log=log, **ENV)
    try:
        assert wait_until(lambda: ready(port) or server.poll() is not None, 180)
        assert server.poll() is None, log.read_text()
        yield port
    finally:
        stop(server)
    assert "Traceback" not in log.read_text()


def ask_over_http(port: int) -> None:
    status, _, body = request(port, "POST", "/ask", {"question": QUESTION})
    assert status == 200, body
    assert body["citations"] and body["answer"] in {"2001", "2002"}


# -- 1: any later process can use what an earlier one built ---------------------------------


def test_every_command_works_in_a_later_process(world: Path) -> None:
    assert_clean(qa(world, "index"))
    answered(qa(world, "ask", QUESTION, "--json"))
    checked = qa(world, "index", "--check")
    assert_clean(checked)
    assert "index is current" in checked.stdout
    searched = qa(world, "search", "grain storage", "--json")
    assert_clean(searched)
    assert json.loads(searched.stdout)[0]["doc_id"] == "b.txt"
    with serving(world, world / "serve1.log") as port:
        ask_over_http(port)
    with serving(world, world / "serve2.log") as port:  # a restart opens it again
        ask_over_http(port)
        status, _, body = request(port, "POST", "/reload")
        assert status == 200 and body["reloaded"] is False, body
    assert_clean(qa(world, "index", "--force"))
    assert "index is current" in qa(world, "index", "--check").stdout
    answered(qa(world, "ask", QUESTION, "--json"))


# -- 3: a damaged database: --check says so, a rebuild moves it aside -----------------------


def _data_files(db: Path) -> list[Path]:
    files = sorted(db.glob("collections/*/partitions/*/data/*.parquet"))
    assert files, sorted(p.name for p in db.rglob("*"))
    return files


def truncate_data(db: Path) -> None:
    for path in _data_files(db):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])


def garble_data(db: Path) -> None:
    for path in _data_files(db):
        data = bytearray(path.read_bytes())
        for i in range(0, len(data), 7):
            data[i] ^= 0x5A
        path.write_bytes(bytes(data))


def garble_aliases(db: Path) -> None:
    aliases = db / "aliases.json"
    assert aliases.is_file()
    aliases.write_bytes(b"\x00{'citeqa': citeqa_v_")


def file_in_place(db: Path) -> None:
    shutil.rmtree(db)
    db.write_bytes(b"SQLite format 3\x00" + bytes(200))


DAMAGES: dict[str, Callable[[Path], None]] = {
    "truncated data file": truncate_data,
    "garbled data file": garble_data,
    "garbled aliases.json": garble_aliases,
    "a file in place of the folder": file_in_place,
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_database_is_reported_and_rebuilt(world: Path, damage: str) -> None:
    assert_clean(qa(world, "index"))
    db = world / "index" / "milvus.db"
    DAMAGES[damage](db)
    checked = qa(world, "index", "--check")
    assert checked.returncode == 1, checked.stderr
    assert f"the Milvus Lite database {db} is damaged" in checked.stdout
    assert "check that it runs" not in checked.stdout
    assert checked.stderr == ""
    rebuilt = qa(world, "index", "--force")
    assert_clean(rebuilt)
    moved = [p for p in db.parent.iterdir() if p.name.startswith("milvus.db.damaged-")]
    assert len(moved) == 1 and f"moved to {moved[0]}" in rebuilt.stderr
    assert "index is current" in qa(world, "index", "--check").stdout
    answered(qa(world, "ask", QUESTION, "--json"))


def test_qa_ask_rebuilds_over_a_damaged_database(world: Path) -> None:
    assert_clean(qa(world, "index"))
    garble_aliases(world / "index" / "milvus.db")
    asked = qa(world, "ask", QUESTION, "--json")
    assert "is damaged" in asked.stderr  # "building the index: <why>"
    answered(asked)


# -- 23: a database another process holds ---------------------------------------------------


def holds_lock(pid: int, lock: Path) -> bool:
    """Whether process ``pid`` holds a flock on ``lock`` (from /proc/locks)."""
    try:
        inode = lock.stat().st_ino
        table = Path("/proc/locks").read_text()
    except OSError:
        return False
    for line in table.splitlines():
        fields = line.split()
        if "FLOCK" in fields and str(pid) in fields[:-2]:
            held = fields[fields.index(str(pid)) + 1]
            if held.endswith(f":{inode}"):
                return True
    return False


IN_USE = "is in use by another process"


def test_two_forced_builds_at_once_the_second_says_the_file_is_held(world: Path) -> None:
    assert_clean(qa(world, "index"))  # built: each --force opens the database at its check
    for copy in ("chapter.txt", "chapter-again.txt"):  # the real chapter: a longer build
        shutil.copy(CHAPTER, world / "corpus" / copy)
    args = ("index", "--force", "--corpus", world / "corpus", "--index-dir", world / "index")
    env = offline_env(**ENV)
    first = subprocess.Popen(qa_command(*args), cwd=REPO, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lock = world / "index" / "milvus.db" / "LOCK"
        assert wait_until(lambda: holds_lock(first.pid, lock) or first.poll() is not None, 120)
        assert first.poll() is None, first.communicate()
        second = run_qa(*args, **ENV)
        _out, err = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    db = world / "index" / "milvus.db"
    assert_one_error_line(second, f"the Milvus Lite database {db} {IN_USE}")
    assert first.returncode == 0, err
    assert "Traceback" not in err
    checked = run_qa("index", "--check", *args[2:], **ENV)
    assert checked.returncode == 0 and "index is current" in checked.stdout


def test_commands_while_qa_serve_holds_the_database_say_so(world: Path) -> None:
    assert_clean(qa(world, "index"))
    db = world / "index" / "milvus.db"
    with serving(world, world / "serve.log") as port:
        for command in (("index", "--force"), ("index", "--check"), ("ask", QUESTION)):
            assert_one_error_line(qa(world, *command), f"the Milvus Lite database {db} {IN_USE}")
        ask_over_http(port)  # the server keeps answering
    assert_clean(qa(world, "index", "--force"))  # once it is stopped, the file is free


def test_the_pid_in_proc_locks_is_read_correctly(tmp_path: Path) -> None:
    """The helper above sees a lock this process takes (so the build test can fail)."""
    import fcntl

    lock = tmp_path / "LOCK"
    lock.touch()
    with lock.open("a") as handle:
        assert not holds_lock(os.getpid(), lock)
        fcntl.flock(handle, fcntl.LOCK_EX)
        assert holds_lock(os.getpid(), lock)
