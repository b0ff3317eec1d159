"""Where the Milvus collections live: a URI (a Milvus Lite ``.db`` file or a server), its
credentials, the timeout and the collection prefix, checked when made and shown without
secrets. Imported by every Milvus module; imports none of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.errors import ConfigError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
HIDDEN = "***"


def shown_uri(uri: str) -> str:
    """``uri`` with its user and password (``scheme://user:pass@host``) replaced by ***."""
    return _USERINFO.sub(rf"\g<1>{HIDDEN}@", uri)


@dataclass(frozen=True)
class MilvusTarget:
    """Where the Milvus collections live and how long to wait for them.

    Attributes:
        uri: a ``.db`` file path (Milvus Lite) or ``http(s)://host:port``.
        token: ``user:password`` or an API key; never written to the manifest or logs.
        timeout: seconds for connecting and for each call.
        prefix: collection names start with it; the alias of the current one is the prefix.
    """

    uri: str
    token: str = ""
    timeout: float = 10.0
    prefix: str = "citeqa"

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.prefix):
            raise ConfigError(
                f"Milvus collection prefix {self.prefix!r} must be letters, digits and _"
            )
        if self.timeout <= 0:
            raise ConfigError("the Milvus timeout must be above 0 seconds")
        remote = self.uri.startswith(("http://", "https://", "tcp://"))
        if not remote and not self.uri.endswith(".db"):
            raise ConfigError(
                f"QA_MILVUS_URI {self.shown!r}: give a local file ending in .db (Milvus Lite) "
                "or http://host:19530"
            )

    @property
    def shown(self) -> str:
        """The URI as messages and the manifest show it: without credentials."""
        return shown_uri(self.uri)

    def scrub(self, text: str) -> str:
        """``text`` with the URI shown without credentials and any secret replaced by ***."""
        text = text.replace(self.uri, self.shown)
        userinfo = _USERINFO.match(self.uri)
        secrets = [self.token, *self.token.split(":", 1)[1:]]
        if userinfo:
            credentials = userinfo.group(0)[len(userinfo.group(1)):-1]
            secrets += [credentials, *credentials.split(":", 1)[1:]]
        for secret in sorted(filter(None, secrets), key=len, reverse=True):
            text = text.replace(secret, HIDDEN)
        return text

    @property
    def lite(self) -> bool:
        """Whether the URI runs Milvus Lite in this process."""
        return self.uri.endswith(".db") and "://" not in self.uri

    def collection(self, version: str) -> str:
        """The collection name of an index version folder (``v-<time>-<rand>``)."""
        return f"{self.prefix}_{re.sub(r'[^A-Za-z0-9]', '_', version)}"
