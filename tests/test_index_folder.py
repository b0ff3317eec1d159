"""Issue 14, finding 3: every file-system error on the index folder is one clear message.

Permission denied, a file where the folder should be, a full disk, a read-only mount: the CLI
prints one line naming the folder and the setting (exit 2), the HTTP API answers 503 JSON;
never a traceback or a 500, and the index in use stays as it was.

Root ignores permission bits, so the permission cases run ``qa`` as an unprivileged user:
as ``nobody`` when the tests run as root (CI does), as the current user otherwise.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.cli import main
from qa.service import QAService
from qa.settings import Settings
from tests.helpers.procs import REPO, free_port, offline_env, qa_command, stop, wait_until
from tests.helpers.servers import request

QUESTION = "When was the dialogue established?"
TEXT = "1 Alliance\n\nThe dialogue was established in 2010 and meets twice a year.\n"
NOBODY = 65534  # the conventional uid and gid of 'nobody' / 'nogroup'


def as_unprivileged() -> dict[str, Any]:
    """``subprocess`` arguments that drop root to ``nobody``; none when not root."""
    if os.geteuid() != 0:
        return {}
    return {"user": NOBODY, "group": NOBODY, "extra_groups": []}


def make_read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)


@pytest.fixture()
def world() -> Iterator[Path]:
    """A folder every user can enter, with a corpus and a current index built by us."""
    root = Path(tempfile.mkdtemp(prefix="qa-folder-", dir="/tmp"))
    root.chmod(0o755)
    (root / "home").mkdir(mode=0o777)
    (root / "home").chmod(0o777)
    (root / "corpus").mkdir()
    (root / "corpus" / "a.txt").write_text(TEXT, "utf-8")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", model="hashing-64")
    QAService(settings).open()
    try:
        yield root
    finally:
        for path in [root, *root.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(root)


def env(root: Path, index_dir: Path | None = None) -> dict[str, str]:
    return offline_env(
        QA_MODEL="hashing-64",
        QA_CORPUS_DIR=str(root / "corpus"),
        QA_INDEX_DIR=str(index_dir or root / "index"),
        HOME=str(root / "home"),
    )


def run_unprivileged(root: Path, *args: str, index_dir: Path | None = None) -> tuple[int, str]:
    result = subprocess.run(
        qa_command(*args), cwd=REPO, env=env(root, index_dir), capture_output=True,
        text=True, timeout=300, **as_unprivileged(),
    )
    return result.returncode, result.stderr


def assert_one_line_naming(status: int, err: str, folder: Path, why: str) -> None:
    assert status == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()  # a build may be announced first ("building the index: ...")
    assert [line for line in lines if line.startswith("qa: error:")] == lines[-1:], err
    assert lines[-1].startswith(f"qa: error: the index folder {folder} cannot be used: ")
    assert why in lines[-1] and "QA_INDEX_DIR" in lines[-1]


def test_a_stale_corpus_and_an_index_we_cannot_write(world: Path) -> None:
    (world / "corpus" / "b.txt").write_text("2 More\n\nA second text.\n", "utf-8")
    make_read_only(world / "index")
    status, err = run_unprivileged(world, "ask", QUESTION)
    assert_one_line_naming(status, err, world / "index", "Permission denied")


def test_an_index_folder_we_cannot_read(world: Path) -> None:
    (world / "index").chmod(0)
    status, err = run_unprivileged(world, "index", "--check")
    assert_one_line_naming(status, err, world / "index", "Permission denied")


def test_an_index_folder_that_cannot_be_created(world: Path) -> None:
    (world / "locked").mkdir(mode=0o555)
    (world / "locked").chmod(0o555)
    folder = world / "locked" / "index"
    status, err = run_unprivileged(world, "index", index_dir=folder)
    assert_one_line_naming(status, err, folder, "Permission denied")
    assert not folder.exists()


@pytest.mark.parametrize("command", [("ask", QUESTION), ("index",), ("index", "--check")])
def test_an_index_path_that_is_a_file(world: Path, command: tuple[str, ...]) -> None:
    a_file = world / "hostname"
    a_file.write_text("not a folder\n", "utf-8")
    status, err = run_unprivileged(world, *command, index_dir=a_file)
    assert_one_line_naming(status, err, a_file, "it is not a folder")
    assert a_file.read_text("utf-8") == "not a folder\n"


def test_reload_on_an_index_we_cannot_write_is_503(world: Path, tmp_path: Path) -> None:
    make_read_only(world / "index")
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            qa_command("serve", "--port", str(port)), cwd=REPO, env=env(world),
            stdout=sink, stderr=subprocess.STDOUT, **as_unprivileged(),
        )
    try:
        assert wait_until(lambda: _ready(port), 120), log.read_text()
        (world / "corpus" / "b.txt").write_text("2 More\n\nA second text.\n", "utf-8")
        status, _, body = request(port, "POST", "/reload")
        assert status == 503, body
        # the setting, not the server's folder (issue 24, finding 22)
        assert "$QA_INDEX_DIR" in body["detail"] and str(world) not in body["detail"]
        assert "Permission denied" in body["detail"]
        status, _, body = request(port, "POST", "/ask", {"question": QUESTION})
        assert status == 200 and "2010" in body["citations"][0]["quote"]  # the old index
    finally:
        stop(server)
    assert "Traceback" not in log.read_text()


def _ready(port: int) -> bool:
    try:
        return request(port, "GET", "/ready", timeout=2)[0] == 200
    except OSError:
        return False


# -- a full disk, a read-only mount: injected where the build writes --------------------------


def _failing(code: int) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code), str(args[-1]) if args else None)

    return fail


FAULTS = [
    ("index.builder.write_chunks", errno.ENOSPC),  # writing the new version
    ("index.store.os.rename", errno.EROFS),  # publishing it
]


@pytest.mark.parametrize(("target", "code"), FAULTS)
def test_a_full_disk_or_read_only_folder_is_503_and_the_old_index_answers(
    make_service: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, target: str, code: int
) -> None:
    service = make_service({"a.txt": TEXT})
    service.open()
    client = TestClient(create_app(service.settings, service), base_url="http://localhost")
    (service.settings.corpus_dir / "b.txt").write_text("2 More\n\nA second text.\n", "utf-8")
    monkeypatch.setattr(target, _failing(code))
    response = client.post("/reload")
    assert response.status_code == 503, response.text
    assert os.strerror(code) in response.json()["detail"]
    assert "$QA_INDEX_DIR" in response.json()["detail"]  # not the server's path
    assert str(service.settings.index_dir) not in response.json()["detail"]
    assert client.post("/ask", json={"question": QUESTION}).status_code == 200
    assert not list(service.settings.index_dir.glob("v-*.tmp"))


@pytest.mark.parametrize(("target", "code"), FAULTS)
def test_a_full_disk_or_read_only_folder_is_one_line_in_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    target: str, code: int,
) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text(TEXT, "utf-8")
    for name, value in env(tmp_path, tmp_path / "index").items():
        if name.startswith("QA_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setattr(target, _failing(code))
    status = main(["index"])
    err = capsys.readouterr().err
    assert_one_line_naming(status, err, tmp_path / "index", os.strerror(code))
