"""What a check may use from the outside world, passed in so tests control all of it."""

from __future__ import annotations

import contextlib
import os
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from monitor import __version__
from monitor.redact import redact_url
from monitor.transport import tls_context

USER_AGENT = f"monitor/{__version__} (synthetic check)"


class CheckMisconfigured(Exception):
    """The check cannot run as configured (a CA file that does not load, say)."""


_CONTEXTS: dict[str | None, ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


def _verifying_context(ca_file: str | None) -> ssl.SSLContext:
    """Loading the CA store parses a whole bundle; a check run must not pay it every time.

    Built once per CA file under a lock (concurrent first runs would each
    build their own); a configured context is safe to share across threads.
    """
    with _CONTEXTS_LOCK:
        if ca_file not in _CONTEXTS:
            _CONTEXTS[ca_file] = tls_context(ca_file) if ca_file else httpx.create_ssl_context()
        return _CONTEXTS[ca_file]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CheckContext:
    """The clock, the environment and where files live, for one batch of runs.

    ``now`` is the wall clock (aware UTC): credentials expiry and clock skew
    are judged against it. ``config_dir`` anchors relative paths from the
    config; ``state_dir`` holds monitor's own files (its OAuth token files).
    """

    config_dir: Path
    state_dir: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    now: Callable[[], datetime] = _utcnow

    def path(self, configured: str) -> Path:
        """A path from the config: ``~`` expanded, relative ones from the config's folder."""
        expanded = Path(configured).expanduser()
        return expanded if expanded.is_absolute() else self.config_dir / expanded

    def http_client(
        self, *, timeout: float, verify_tls: bool = True, ca_file: str | None = None
    ) -> httpx.Client:
        """A client for one check: no redirects followed (a 301 is an answer worth seeing)."""
        verify: ssl.SSLContext | bool = False
        if verify_tls:
            bundle = str(self.path(ca_file)) if ca_file else None
            try:
                verify = _verifying_context(bundle)
            except (OSError, ssl.SSLError) as exc:
                raise CheckMisconfigured(f"cannot load ca_file {bundle}: {exc}") from None
        return httpx.Client(
            timeout=httpx.Timeout(timeout, connect=timeout),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            verify=verify,
        )

    def warm_up(self, ca_files: set[str | None]) -> None:
        """Build the TLS contexts a batch will need before any run is timed.

        A CA file that cannot be loaded is left for its check to report.
        """
        for ca_file in ca_files:
            with contextlib.suppress(OSError, ssl.SSLError):
                _verifying_context(str(self.path(ca_file)) if ca_file else None)

    def run_facts(self, *, verify_tls: bool) -> dict[str, Any]:
        """What was in effect for an HTTP run: the proxy, and TLS verification if it was off."""
        facts: dict[str, Any] = {}
        proxy = self.proxy_settings()
        if proxy:
            facts["proxy"] = proxy
        if not verify_tls:
            facts["tls_verification"] = "off"
        return facts

    def proxy_settings(self) -> dict[str, str]:
        """Proxy variables in effect (httpx honours them), values redacted of credentials."""
        names = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
        found = {}
        for name in names:
            value = self.env.get(name) or self.env.get(name.lower())
            if value:
                found[name] = value if name == "NO_PROXY" else redact_url(value)
        return found
