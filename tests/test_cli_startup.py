"""``monitor --help`` and a mistyped command start fast: they import no command at all.

The command list comes from ``monitor.cli.app.COMMANDS``; these tests keep
that table's short help equal to each command's own, and the list it prints
equal to the one click would print with every command imported.
"""

from __future__ import annotations

import click
import pytest
from click.shell_completion import CompletionItem

from monitor.cli.app import COMMANDS, LazyGroup, cli
from tests.imports import heavy, imported_by

NOT_FOR_HELP = ("monitor.store", "monitor.config", "monitor.views.why", "monitor.correlate")
BIG = 10**6


def loaded(name: str) -> click.Command:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None, name
    return command


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_it_keeps_each_commands_short_help_in_the_table_as_the_command_has_it(name):
    assert COMMANDS[name].short_help == loaded(name).get_short_help_str(BIG)


def test_it_lists_every_command_a_module_defines_once():
    targets = [entry.target for entry in COMMANDS.values()]
    assert len(set(targets)) == len(targets)


@pytest.mark.parametrize("width", [50, 80, 100, 200])
def test_it_lists_the_commands_as_click_would_with_every_command_imported(width):
    ctx = click.Context(cli)
    lazy = click.HelpFormatter(width=width)
    LazyGroup.format_commands(cli, ctx, lazy)
    for name in COMMANDS:
        loaded(name)
    eager = click.HelpFormatter(width=width)
    click.Group.format_commands(cli, ctx, eager)
    assert lazy.getvalue() == eager.getvalue()
    assert "why " in lazy.getvalue()


@pytest.mark.parametrize("incomplete", ["", "w", "why", "in", "x", "-", "--l"])
def test_it_completes_a_command_name_as_click_would_with_every_command_imported(incomplete):
    group = LazyGroup("monitor", params=cli.params)
    ctx = click.Context(group)

    def items(completions: list[CompletionItem]) -> list[tuple[str, str | None]]:
        return [(item.value, item.help) for item in completions]

    lazy = items(group.shell_complete(ctx, incomplete))
    assert group.commands == {}  # listed from COMMANDS: nothing imported
    eager = items(click.Group.shell_complete(group, ctx, incomplete))
    assert lazy == eager
    assert items(group.shell_complete(ctx, incomplete)) == eager  # once loaded too
    names = [value for value, _ in lazy if not value.startswith("-")]
    assert names == sorted(name for name in COMMANDS if name.startswith(incomplete))


def test_it_shows_help_without_importing_a_command_or_anything_heavy():
    process, code, modules = imported_by(["--help"])
    assert code == 0
    assert "Commands:" in process.stdout
    assert heavy(modules, *NOT_FOR_HELP) == []
    assert not [
        m
        for m in modules
        if m.startswith("monitor.cli.")
        and m
        not in (
            "monitor.cli.app",
            "monitor.cli.render",
        )
    ]


def test_its_help_shows_why_and_import_among_the_examples():
    process, _, _ = imported_by(["--help"])
    examples = process.stdout.split("Examples:")[1].split("Options:")[0]
    assert "monitor why" in examples
    assert "monitor import" in examples


def test_it_answers_a_mistyped_command_with_a_suggestion_and_no_command_imported():
    process, code, modules = imported_by(["wyh"])
    assert code == 2
    assert "Error: No such command 'wyh'. Did you mean 'why'?" in process.stderr
    assert heavy(modules, *NOT_FOR_HELP) == []
    assert "monitor.cli.why" not in modules


def test_it_imports_only_the_command_that_runs():
    _, code, modules = imported_by(["why", "--help"])
    assert code == 0
    assert "monitor.cli.why" in modules
    assert "monitor.cli.chart" not in modules
    assert heavy(modules, "monitor.store", "monitor.config") == []
