"""The encoding of an HTML file's bytes, found as a browser finds it (WHATWG).

The HTML Standard's order, without HTTP headers (a corpus file has none): a byte order
mark; else the ``<meta>`` prescan of the first 1024 bytes (comments, other tags and
attribute syntax skipped as a browser skips them; a ``utf-16`` label means UTF-8, since
bytes the prescan could read as ASCII are not UTF-16); else our fallback, UTF-8 when the
bytes are valid UTF-8 and windows-1252 otherwise. Labels are WHATWG labels
(``iso-8859-1`` and ``latin1`` are windows-1252, ``x-sjis`` is Shift_JIS); a label the
Standard does not know is passed over as the prescan says.

The prescan is html5lib's implementation of the Standard's algorithm and the labels are
``webencodings`` (the Encoding Standard's table), so no rule here is our own.
"""

from __future__ import annotations

from typing import Any

import webencodings

PRESCAN_BYTES = 1024  # where the Standard stops looking for a <meta> declaration


def html_encoding(data: bytes) -> Any:
    """The ``webencodings.Encoding`` to decode ``data`` with (see the module rules)."""
    from html5lib._inputstream import HTMLBinaryInputStream

    fallback = "utf-8" if _is_utf8(data) else "windows-1252"
    head = HTMLBinaryInputStream(data[:PRESCAN_BYTES], useChardet=False,
                                 default_encoding=fallback)
    return head.charEncoding[0]


def decode_html(data: bytes) -> str:
    """The text of an HTML file's bytes; bytes invalid in its encoding become U+FFFD."""
    text, _ = webencodings.decode(data, html_encoding(data), errors="replace")
    return str(text)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
