"""Importing a library without the optional extras it would pull in on its own.

Some libraries import every optional backend that happens to be installed: spaCy's thinc
imports torch (over a second and hundreds of MiB), bm25s imports numba (installed here only
as a dependency of a dev tool). The query path uses neither backend, so it imports these
libraries with the extras hidden; the library then records the extra as absent, and the
extra stays importable for whoever needs it later (the ONNX export needs torch).
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType

_LOCK = threading.Lock()


def import_hiding(name: str, hidden: tuple[str, ...]) -> ModuleType:
    """``import name`` while ``hidden`` cannot be imported (unless already imported).

    Args:
        name: the module to import.
        hidden: top-level modules that must look absent while ``name`` is imported.
    """
    if name in sys.modules:
        # Not sys.modules[name]: another thread may still be running the module's code, and
        # import_module waits for that import to finish instead of returning a half module.
        return importlib.import_module(name)
    with _LOCK:  # one thread at a time hides and restores, so no mask outlives its import
        masked = [h for h in hidden if h not in sys.modules]
        for module in masked:
            sys.modules[module] = None  # type: ignore[assignment]  # "import x" -> ImportError
        try:
            return importlib.import_module(name)
        finally:
            for module in masked:
                if sys.modules.get(module, ...) is None:
                    del sys.modules[module]
