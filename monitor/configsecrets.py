"""Secrets written into the config file, found before anything runs.

A config file gets shared, committed and pasted into issues; a secret belongs
in the environment, referenced as ``${NAME}`` (``monitor.envvars``) and filled
in only where it is used. Which values are secret-bearing, precisely:

- ``[[check]] headers``: a header whose name says it carries a credential
  (see ``is_credential_name``: ``Authorization``, ``Proxy-Authorization``,
  ``Cookie``, and any name ending in token, secret, password, key, auth,
  credential(s) or signature, e.g. ``x-api-key``, ``X-Auth-Token``,
  ``Ocp-Apim-Subscription-Key``; not ``Idempotency-Key``). Its value must be
  ``${NAME}`` references, optionally after an auth scheme: ``"Bearer ${TOKEN}"``.
- ``[[check]] body``: in a JSON object (at any depth) or a form body
  (``a=1&b=2``), a string field with such a name (``"client_secret"``,
  ``refresh_token=``; not ``max_tokens`` nor ``token_type_hint``), likewise.
- ``[[notify]] url`` (an Apprise URL): a password (``user:pass@``), a query
  parameter with such a name (``?token=``), and a host or path part shaped
  like a generated token (16+ letters, digits, ``-`` or ``_`` mixing letters
  and digits, or 32+ of them: Slack, Discord, Teams and webhook tokens, a
  random ntfy topic), each unless it is a ``${NAME}`` reference.
- ``[database] url``: a password in it, and a query parameter with such a
  name (``?password=``).
- ``[http] token`` is checked by its own field: only ``${NAME}`` is accepted.

Everything else is left as written: check URLs (their user-info is refused
by the URL type; ``${NAME}`` is not filled in there), a public OAuth
``client_id``, header values such as ``anthropic-version``. A value is never
quoted back: the problem names the key and the part, not the secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from monitor.envvars import VARIABLE

# What a reference becomes while a value is parsed: no secret, and no token shape.
_PLACEHOLDER = "${}"
_CREDENTIAL_ENDINGS = frozenset(
    {
        "authorization",
        "cookie",
        "token",
        "secret",
        "password",
        "passwd",
        "passphrase",
        "key",
        "apikey",
        "auth",
        "credential",
        "credentials",
        "signature",
    }
)
# Headers ending in "key" that carry none: a request id, a WebSocket nonce.
_NOT_CREDENTIALS = frozenset({"idempotency-key", "sec-websocket-key"})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_SCHEME = re.compile(r"^\s*(?:bearer|basic|token|apikey|api-key|key|digest|jwt)\s+", re.I)
_TOKEN_SHAPED = re.compile(
    r"(?=[A-Za-z_-]*[0-9])(?=[0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}|[A-Za-z0-9_-]{32,}"
)


class SecretLiteral(NamedTuple):
    """A secret written into the file: where, which part, and the reference to write instead.

    ``loc`` is the key as a path (``("check", 1, "headers", "x-api-key")``),
    ``part`` says what inside its value is secret (``"the password"``, or
    ``""`` for the whole value), and ``fix`` is the value to write, holding
    ``${variable}``.
    """

    loc: tuple[str | int, ...]
    part: str
    variable: str
    fix: str

    def problem(self, key: str) -> str:
        """``key: ...`` (``key`` is ``loc`` as the user reads it): the fix, never the secret."""
        return (
            f"{key}: {self.part or 'the value'} is a secret written into the file (not shown); "
            f'write "{self.fix}" in its place and set {self.variable} in the environment '
            "(secrets never go in this file)"
        )


def is_credential_name(name: str) -> bool:
    """Does a header or field called ``name`` carry a credential (``x-api-key``: yes)?

    Read from its last word, so ``max_tokens`` and ``token_type_hint`` are
    not credentials while ``refresh_token`` and ``apiKey`` are.
    """
    if name.lower() in _NOT_CREDENTIALS:
        return False
    words = _WORD.findall(name)
    return bool(words) and words[-1].lower() in _CREDENTIAL_ENDINGS


def secret_literals(raw: dict[str, Any]) -> list[SecretLiteral]:
    """Every secret written as it is in a decoded config: checks, then notify, then database."""
    found: list[SecretLiteral] = []
    for index, check in _entries(raw, "check"):
        prefix = _variable_prefix(check, "check", index)
        headers = check.get("headers")
        for name, value in headers.items() if isinstance(headers, dict) else ():
            if isinstance(value, str) and is_credential_name(name) and _literal(value):
                variable = _variable(prefix, name)
                scheme = _SCHEME.match(value)
                written = f"{scheme[0].strip()} " if scheme else ""
                found.append(
                    SecretLiteral(
                        ("check", index, "headers", name), "", variable, f"{written}${{{variable}}}"
                    )
                )
        body = check.get("body")
        if isinstance(body, str):
            for field in _body_secrets(body):
                variable = _variable(prefix, field)
                found.append(
                    SecretLiteral(
                        ("check", index, "body"), f"field {field!r}", variable, f"${{{variable}}}"
                    )
                )
    for index, notify in _entries(raw, "notify"):
        url = notify.get("url")
        if isinstance(url, str):
            prefix = _variable_prefix(notify, "notify", index)
            found += _url_secrets(("notify", index, "url"), url, prefix, paths=True)
    database = raw.get("database")
    url = database.get("url") if isinstance(database, dict) else None
    if isinstance(url, str):
        found += _url_secrets(("database", "url"), url, "DATABASE", paths=False)
    return found


def _literal(value: str) -> bool:
    """Is anything but references (and an auth scheme before them) written in ``value``?"""
    rest = VARIABLE.sub("", value)
    if rest != value:  # a scheme counts only before a reference: "Bearer abc" is a secret
        rest = _SCHEME.sub("", rest)
    return bool(rest.strip())


def _body_secrets(body: str) -> Iterator[str]:
    """Names of credential fields given a written value in a JSON or form body."""
    try:
        document = json.loads(body)
    except ValueError:
        pairs = parse_qsl(body.strip(), keep_blank_values=True) if "=" in body else []
        yield from (k for k, v in pairs if is_credential_name(k) and _literal(v))
        return
    yield from _json_secrets(document)


def _json_secrets(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and is_credential_name(str(key)) and _literal(value):
                yield str(key)
            else:
                yield from _json_secrets(value)
    elif isinstance(node, list):
        for item in node:
            yield from _json_secrets(item)


def _url_secrets(
    loc: tuple[str | int, ...], url: str, prefix: str, *, paths: bool
) -> list[SecretLiteral]:
    """Secrets in a URL: its password, credential query parameters, token-shaped parts."""
    parsed = VARIABLE.sub(_PLACEHOLDER, url)
    try:
        parts = urlsplit(parsed)
    except ValueError:
        return []  # not a URL: its own validator says so
    found: list[tuple[str, str]] = []
    userinfo, at, hostport = parts.netloc.rpartition("@")
    username, colon, password = userinfo.partition(":")
    if at and colon and password and password != _PLACEHOLDER:
        found.append(("the password", _variable(prefix, "password")))
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if is_credential_name(name) and _literal(value.replace(_PLACEHOLDER, "")):
            found.append((f"query parameter {name!r}", _variable(prefix, name)))
    if paths:
        pieces = [username, *re.split(r"[.:]", hostport), *parts.path.split("/")]
        if any(_TOKEN_SHAPED.fullmatch(piece) for piece in pieces):
            found.append(("a token in its host or path", _variable(prefix, "token")))
    return [SecretLiteral(loc, part, variable, f"${{{variable}}}") for part, variable in found]


def _entries(raw: dict[str, Any], table: str) -> Iterator[tuple[int, dict[str, Any]]]:
    entries = raw.get(table)
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict):
            yield index, entry


def _variable_prefix(entry: dict[str, Any], table: str, index: int) -> str:
    name = entry.get("name")
    return name if isinstance(name, str) and name else f"{table}{index}"


def _variable(*words: str) -> str:
    """A variable name from words: ``api-check``, ``x-api-key`` -> ``API_CHECK_X_API_KEY``."""
    joined = re.sub(r"[^A-Za-z0-9]+", "_", "_".join(words)).strip("_").upper()
    return joined if not joined[:1].isdigit() else f"_{joined}"
