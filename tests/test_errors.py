"""The exception tree drawn in monitor/errors.py names every MonitorError subclass."""

from __future__ import annotations

import importlib
import pkgutil
import re

import monitor
from monitor import errors
from monitor.errors import MonitorError


def _import_every_module() -> None:
    """Import all of monitor/, so subclasses defined anywhere in it exist."""
    for module in pkgutil.walk_packages(monitor.__path__, "monitor.", onerror=lambda _: None):
        try:
            importlib.import_module(module.name)
        except ImportError:
            continue  # needs an optional extra that is not installed


def _subclasses(cls: type[MonitorError]) -> set[type[MonitorError]]:
    found: set[type[MonitorError]] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_the_docstring_tree_names_every_monitor_error() -> None:
    _import_every_module()
    tree = errors.__doc__ or ""
    subclasses = _subclasses(MonitorError)

    missing = sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in subclasses
        if not re.search(rf"\b{re.escape(cls.__name__)}\b", tree)
    )

    assert not missing, f"add these to the tree in monitor/errors.py: {missing}"
    # The walk found the subclasses defined outside errors.py, not only its own.
    assert any(cls.__module__ != errors.__name__ for cls in subclasses)
