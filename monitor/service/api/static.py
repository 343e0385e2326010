"""``GET /`` and ``GET /<file>``: the dashboards folder, read-only.

Only a plain file name directly in the folder with a known suffix is
served: no sub-folder, no hidden or temporary file, no ``..``, no listing,
and nothing the folder's symlinks point at outside it. The folder may be
the config's own (``out = "."``), so the suffix list is what keeps the
config and the database out of reach.
"""

from __future__ import annotations

import re
from pathlib import Path

# The page monitor.charts.generate writes (importing it would load matplotlib).
INDEX = "index.html"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


def dashboard_file(folder: Path, path: str) -> tuple[Path, str] | None:
    """The file a decoded URL path names in ``folder`` and its content type, or None."""
    name = path.removeprefix("/") or INDEX
    suffix = Path(name).suffix.lower()
    if not _NAME.match(name) or suffix not in CONTENT_TYPES:
        return None
    try:
        root = folder.resolve(strict=True)
        file = (root / name).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if file.parent != root or not file.is_file():
        return None
    return file, CONTENT_TYPES[suffix]
