"""index.imports.import_hiding: the extra looks absent during the import, and a second thread
never gets a module that the first is still importing."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from index.imports import import_hiding


@pytest.fixture
def module_dir(tmp_path: Path):
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("citeqa_probe_")]:
        del sys.modules[name]


def test_hidden_module_looks_absent_and_comes_back(module_dir: Path) -> None:
    (module_dir / "citeqa_probe_extra.py").write_text("VALUE = 1\n")
    (module_dir / "citeqa_probe_lib.py").write_text(
        "try:\n    import citeqa_probe_extra\n    HAS_EXTRA = True\n"
        "except ImportError:\n    HAS_EXTRA = False\n"
    )
    lib = import_hiding("citeqa_probe_lib", ("citeqa_probe_extra",))
    assert lib.HAS_EXTRA is False
    import citeqa_probe_extra  # the extra is importable again afterwards

    assert citeqa_probe_extra.VALUE == 1


def test_second_thread_waits_for_a_module_still_importing(module_dir: Path) -> None:
    started = module_dir / "started"
    (module_dir / "citeqa_probe_slow.py").write_text(
        "import pathlib, time\n"
        f"pathlib.Path({str(started)!r}).write_text('x')\n"
        "time.sleep(0.5)\n"
        "READY = True\n"
    )
    results: dict[str, object] = {}

    def first() -> None:
        results["first"] = getattr(import_hiding("citeqa_probe_slow", ()), "READY", None)

    thread = threading.Thread(target=first)
    thread.start()
    for _ in range(500):  # wait until the first import is inside the module's code
        if started.exists():
            break
        threading.Event().wait(0.01)
    assert started.exists() and "citeqa_probe_slow" in sys.modules
    second = import_hiding("citeqa_probe_slow", ())
    results["second"] = getattr(second, "READY", None)
    thread.join()
    assert results == {"first": True, "second": True}
