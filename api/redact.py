"""What an HTTP error body may say about the server: no absolute paths.

The core's messages name folders and files in full, which is right on the user's own
terminal (the CLI) and in the server log; a client of the HTTP API is told the setting
instead (``$QA_INDEX_DIR/v-...``), and any other absolute path is cut to its last name.
"""

from __future__ import annotations

import re
from pathlib import Path

from qa.settings import Settings

# An absolute path of two or more parts, not inside a word or a URL ("http://h/x").
_ABSOLUTE = re.compile(r"(?<![\w.:/~-])/[^\s'\"<>()\[\]{},;/]+(?:/[^\s'\"<>()\[\]{},;/]*)+")
_TRAILING = ".:"


def public_detail(message: str, settings: Settings) -> str:
    """``message`` with the server's absolute paths replaced.

    Args:
        message: an error message of the core.
        settings: the server's settings (the folders to name by their setting).

    Returns:
        The message with the index, corpus and Milvus Lite paths named by their
        ``QA_*`` setting and other absolute paths cut to ``…/<last name>``.
    """
    for path, name in _roots(settings):
        # the whole folder name only: /srv/index is not the start of /srv/index2
        message = re.sub(re.escape(path) + r"(?=/|$|[^\w.~-])", f"${name}", message)
    return _ABSOLUTE.sub(_last_name, message)


def _roots(settings: Settings) -> list[tuple[str, str]]:
    roots = [(settings.index_dir, "QA_INDEX_DIR"), (settings.corpus_dir, "QA_CORPUS_DIR")]
    if settings.milvus_uri and "://" not in settings.milvus_uri:
        roots.append((Path(settings.milvus_uri), "QA_MILVUS_URI"))
    forms = {}
    for path, name in roots:
        for form in (str(path), str(Path(path).resolve())):
            if form.startswith("/") and form != "/":
                forms[form.rstrip("/")] = name
    # the longest first: a folder inside another is named by its own setting
    return sorted(forms.items(), key=lambda item: len(item[0]), reverse=True)


def _last_name(match: re.Match[str]) -> str:
    path = match.group(0)
    kept = path.rstrip(_TRAILING)
    name = kept.rstrip("/").rsplit("/", 1)[-1]
    return f"…/{name}{path[len(kept):]}"
