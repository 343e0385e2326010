"""Secrets written into the config file, found before anything runs.

A config file gets shared, committed and pasted into issues; a secret belongs
in the environment, referenced as ``${NAME}`` (``monitor.envvars``) and filled
in only where it is used. Which values are secret-bearing, precisely:

Which names name a secret is one rule, ``monitor.redact.names_secret``, the
one redaction uses too: ``Authorization``, ``Cookie``, ``x-api-key``,
``X-Auth-Token``, ``client_secret``, ``refresh_token``, ``pass``, ``pwd``,
``session_id``, ``sig``...; not ``max_tokens``, ``token_type_hint``,
``Idempotency-Key``, ``Sec-WebSocket-Key``, ``client_id``.

- ``[[check]] headers``: a header with such a name. Its value must be
  ``${NAME}`` references, optionally after an auth scheme: ``"Bearer ${TOKEN}"``.
- ``[[check]] body``: in a JSON object (at any depth) or a form body
  (``a=1&b=2``), a string field with such a name, likewise.
- ``[[check]] url``, ``token_url``, ``verify_url``: a query parameter with
  such a name. An http check's ``url`` takes ``${NAME}`` in its query
  values (filled in only when sending); the other URLs are sent as written,
  so there the secret can only be taken out.
- ``[[notify]] url`` (an Apprise URL): the password (``user:pass@``), a query
  parameter with such a name (``?token=``, ``?pass=``), and, since services
  put their tokens where a URL has its parts, a user name, a host of one
  label, the part after a host's ``:`` that is no port, or a path segment
  that looks generated (``looks_generated``: Slack, Discord, Gotify,
  Telegram, Pushover tokens). A host name with a dot never is
  (``ip-172-31-20-123.ec2.internal``), nor are words joined by ``-``
  (``prometheus-alertmanager-01``) or an ntfy topic.
- ``[database] url``: a password in it, and a query parameter with such a
  name (``?password=``).
- ``[http] token`` is checked by its own field: only ``${NAME}`` is accepted.

Everything else is left as written: a public OAuth ``client_id``, header
values such as ``anthropic-version``. A value is never quoted back: the
problem names the key and the part by its position ("the URL's password",
"path segment 2", "query parameter 'token'"), never the secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from monitor.envvars import VARIABLE
from monitor.redact import names_secret

# What a reference becomes while a value is parsed: no secret, and no token shape.
_PLACEHOLDER = "${}"
_SCHEME = re.compile(r"^\s*(?:bearer|basic|token|apikey|api-key|key|digest|jwt)\s+", re.I)
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")
# Parts of a name: "prometheus-alertmanager-01", "ip-172-31-20-123", "my-topic".
_WORDISH = re.compile(r"[A-Za-z]+|[0-9]+")


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
    # False where ${NAME} is not filled in: the secret can only be taken out.
    referable: bool = True

    def problem(self, key: str) -> str:
        """``key: ...`` (``key`` is ``loc`` as the user reads it): the fix, never the secret."""
        if not self.referable:
            return (
                f"{key}: {self.part or 'the value'} is a secret written into the file (not shown); "
                "remove it: ${NAME} is filled in only in an http check's url, its headers "
                "and its body (secrets never go in this file)"
            )
        return (
            f"{key}: {self.part or 'the value'} is a secret written into the file (not shown); "
            f'write "{self.fix}" in its place and set {self.variable} in the environment '
            "(secrets never go in this file)"
        )


def looks_generated(piece: str) -> bool:
    """Is a URL part a generated token rather than a name a person chose?

    Yes: 15+ letters, digits, ``-`` or ``_`` mixing upper case, lower case and
    digits (Discord, Slack, Gotify, Pushover tokens), or 32+ of them with a
    digit (hex and base64 keys, GUIDs). No: parts made of words and numbers
    joined by ``-`` or ``_`` (``prometheus-alertmanager-01``,
    ``ip-172-31-20-123``, ``my-topic``), however long.
    """
    if not _TOKEN_CHARS.fullmatch(piece):
        return False
    if all(_WORDISH.fullmatch(word) for word in re.split(r"[-_]", piece) if word):
        return False
    has_digit = any(c.isdigit() for c in piece)
    mixed = has_digit and any(c.isupper() for c in piece) and any(c.islower() for c in piece)
    return (mixed and len(piece) >= 15) or (has_digit and len(piece) >= 32)


def secret_literals(raw: dict[str, Any]) -> list[SecretLiteral]:
    """Every secret written as it is in a decoded config: checks, then notify, then database."""
    found: list[SecretLiteral] = []
    for index, check in _entries(raw, "check"):
        prefix = _variable_prefix(check, "check", index)
        headers = check.get("headers")
        for name, value in headers.items() if isinstance(headers, dict) else ():
            if isinstance(value, str) and names_secret(name) and _literal(value):
                variable = _variable(prefix, name)
                scheme = _SCHEME.match(value)
                written = f"{scheme[0].strip()} " if scheme else ""
                found.append(
                    SecretLiteral(
                        ("check", index, "headers", name), "", variable, f"{written}${{{variable}}}"
                    )
                )
        for field in ("url", "token_url", "verify_url"):
            url = check.get(field)
            if isinstance(url, str):
                referable = field == "url" and check.get("kind") == "http"
                found += [
                    s._replace(referable=referable)
                    for s in _url_secrets(("check", index, field), url, prefix, paths=False)
                ]
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
        yield from (k for k, v in pairs if names_secret(k) and _literal(v))
        return
    yield from _json_secrets(document)


def _json_secrets(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and names_secret(str(key)) and _literal(value):
                yield str(key)
            else:
                yield from _json_secrets(value)
    elif isinstance(node, list):
        for item in node:
            yield from _json_secrets(item)


def _url_secrets(
    loc: tuple[str | int, ...], url: str, prefix: str, *, paths: bool
) -> list[SecretLiteral]:
    """Secrets in a URL: its password, credential query parameters, token-shaped parts.

    With ``paths`` (an Apprise URL, whose services put tokens where a URL has
    its user, host and path), also a user name, a host of one label, the part
    after a host's ``:`` that is no port, and a path segment that look
    generated (``looks_generated``). A host with a dot is a host name, never
    a token: ``ip-172-31-20-123.ec2.internal``.
    """
    parsed = VARIABLE.sub(_PLACEHOLDER, url)
    try:
        parts = urlsplit(parsed)
    except ValueError:
        return []  # not a URL: its own validator says so
    found: list[tuple[str, str]] = []
    userinfo, at, hostport = parts.netloc.rpartition("@")
    username, colon, password = userinfo.partition(":")
    if at and colon and password and password != _PLACEHOLDER:
        found.append(("the URL's password", _variable(prefix, "password")))
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if names_secret(name) and _literal(value.replace(_PLACEHOLDER, "")):
            found.append((f"query parameter {name!r}", _variable(prefix, name)))
    if not paths:
        return [SecretLiteral(loc, part, variable, f"${{{variable}}}") for part, variable in found]
    host, colon, port = hostport.rpartition(":") if "]" not in hostport else (hostport, "", "")
    host = host if colon else port
    port = port if colon else ""
    tokens: list[tuple[str, str]] = []
    if at and looks_generated(username):
        tokens.append(("the URL's user name", "user"))
    if "." not in host and looks_generated(host):
        tokens.append(("the URL's host", "host token"))
    if port and not port.isdigit() and looks_generated(port):
        tokens.append(("the part after ':' in the URL's host", "token"))
    for number, segment in enumerate(parts.path.split("/")[1:], start=1):
        if looks_generated(segment):
            tokens.append((f"path segment {number}", f"token {number}"))
    if len(tokens) == 1 and tokens[0][1].startswith("token"):
        tokens = [(tokens[0][0], "token")]  # one token: ${NAME_TOKEN}
    found += [(part, _variable(prefix, word)) for part, word in tokens]
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
