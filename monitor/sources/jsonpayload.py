"""Decode JSON status payloads with errors that say what arrived instead.

Shared by every JSON provider so "the vendor served an HTML error page" and
"the body was cut off" read the same whichever page it came from.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from monitor.errors import ParseError
from monitor.times import parse_iso_or_none

# A \uD800-\uDFFF escape: JSON allows one unpaired, Python decodes it to a lone
# surrogate, and SQLite (like any UTF-8 writer) then refuses the string.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def load_json(payload: bytes) -> Any:
    """Decode ``payload`` or raise ParseError naming what it looked like.

    An unpaired surrogate escape (``"\\ud800"``) becomes U+FFFD, as a bad byte
    does in an imported log: one odd character must not cost the whole poll.
    """
    if not payload.strip():
        raise ParseError("empty response body")
    head = payload.lstrip()[:200].lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        raise ParseError(f"expected JSON, got an HTML page: {_snippet(payload)}")
    if head.startswith(b"<"):
        raise ParseError("expected JSON, got XML")
    try:
        # Strict, unlike json.loads(bytes), which lets UTF-8-encoded surrogates through.
        text = payload.decode(json.detect_encoding(payload))
    except UnicodeDecodeError as exc:
        raise ParseError(f"response is not UTF-8 text: {exc.reason}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        at = len(text[: exc.pos].encode())
        hint = " (truncated?)" if at >= len(payload.rstrip()) - 1 else ""
        raise ParseError(f"invalid JSON{hint}: {exc.msg} at byte {at}") from None
    except RecursionError:
        raise ParseError("invalid JSON: nested too deeply to read") from None
    except ValueError:  # Python refuses integers of more than 4300 digits
        raise ParseError("invalid JSON: a number too long to read") from None
    return _without_lone_surrogates(doc) if _SURROGATE_ESCAPE.search(text) else doc


def _without_lone_surrogates(doc: Any) -> Any:
    """``doc`` with every unpaired surrogate in its strings (keys too) replaced by U+FFFD.

    Iterative: the document may be nested as deep as the decoder allows.
    """
    pending: list[Any] = []

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return _LONE_SURROGATE.sub("\ufffd", value)
        if isinstance(value, list | dict):
            pending.append(value)
        return value

    root = clean(doc)
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            node[:] = [clean(member) for member in node]
        else:
            members = [(clean(key), clean(member)) for key, member in node.items()]
            node.clear()
            node.update(members)
    return root


def _snippet(payload: bytes) -> str:
    """A short, printable hint of an HTML body: its <title> if it has one."""
    text = payload[:4096].decode("utf-8", "replace")
    lower = text.lower()
    start = lower.find("<title>")
    if start != -1:
        end = lower.find("</title>", start)
        if end != -1:
            return repr(" ".join(text[start + 7 : end].split())[:120])
    return repr(" ".join(text.split())[:80])


def json_type(value: Any) -> str:
    """Name a decoded value in JSON's words, showing short scalars: ``string ''``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {shown(value)}"
    if isinstance(value, str):
        return f"string {shown(value)}"
    return "an array" if isinstance(value, list) else "an object"


def shown(value: Any, limit: int = 40) -> str:
    """A string or number quoted, cut to about ``limit`` characters; anything else named.

    A reason quotes, it does not copy: the value may be a megabyte, or an array
    nested as deep as the decoder allows.
    """
    if isinstance(value, str):
        text = repr(value[:limit])
        return text if len(value) <= limit else text + "…"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return json_type(value)
    if isinstance(value, int) and abs(value) >= 10**limit:
        digits = str(value)
        return f"{digits[:limit]}… ({len(digits.lstrip('-'))} digits)"
    return repr(value)


class Reader:
    """Typed access to a decoded JSON document, with the field path in every error."""

    def __init__(self, value: Any, path: str) -> None:
        self.value = value
        self.path = path

    def fail(self, expected: str) -> ParseError:
        return ParseError(f"{self.path}: expected {expected}, got {json_type(self.value)}")

    def key(self, name: str, *, required: bool = True) -> Reader:
        if not isinstance(self.value, dict):
            raise self.fail("an object")
        if required and name not in self.value:
            raise ParseError(f"{self.path}: missing key '{name}'")
        return Reader(self.value.get(name), f"{self.path}.{name}")

    def opt(self, name: str) -> Reader:
        """The member ``name`` if present; a missing member reads as null."""
        return self.key(name, required=False)

    def items(self, *, allow_null: bool = False) -> list[Reader]:
        if self.value is None and allow_null:
            return []
        if not isinstance(self.value, list):
            raise self.fail("an array")
        return [Reader(v, f"{self.path}[{i}]") for i, v in enumerate(self.value)]

    def text(self) -> str:
        if not isinstance(self.value, str):
            raise self.fail("a string")
        return self.value

    def text_or_none(self) -> str | None:
        return None if self.value is None else self.text()

    def time_or_none(self) -> datetime | None:
        try:
            return parse_iso_or_none(self.value)
        except ValueError:
            expected = f"expected an ISO 8601 time, got {shown(self.value)}"
            raise ParseError(f"{self.path}: {expected}") from None

    def time(self) -> datetime:
        value = self.time_or_none()
        if value is None:
            raise self.fail("an ISO 8601 time")
        return value
