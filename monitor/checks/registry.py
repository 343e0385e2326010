"""Which function runs each check kind: the one its settings name, imported on first use."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from monitor.checks.context import CheckContext
from monitor.checks.result import CheckResult
from monitor.checks.settings import CHECK_MODELS

Runner = Callable[[Any, CheckContext], CheckResult]


def runner_for(kind: str) -> Runner:
    module, _, function = CHECK_MODELS[kind].runs_with.partition(":")
    runner: Runner = getattr(importlib.import_module(module), function)
    return runner
