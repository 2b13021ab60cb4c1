"""docs/cli.md keeps step with the commands: its reference is the ``--help`` of each one.

``UPDATE_DOCS=1 pytest tests/test_cli_docs.py`` rewrites the reference after a change.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from click.testing import CliRunner

from unified_auth.cli import cli

COMMANDS = cli.list_commands(click.Context(cli))

DOC = Path(__file__).parent.parent / "docs" / "cli.md"
BEGIN = "<!-- BEGIN REFERENCE (generated from --help by tests/test_cli_docs.py) -->"
END = "<!-- END REFERENCE -->"


def reference() -> str:
    sections = []
    for command in [None, *sorted(COMMANDS)]:
        args = [command, "--help"] if command else ["--help"]
        result = CliRunner().invoke(cli, args, terminal_width=80)
        assert result.exit_code == 0, result.output
        title = " ".join(["unified-auth", *([command] if command else [])])
        sections.append(f"### `{title}`\n\n```text\n{result.stdout.rstrip()}\n```\n")
    return "\n".join(sections)


def test_the_reference_is_the_help_of_every_command() -> None:
    text = DOC.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    current = f"{head}{BEGIN}\n\n{reference()}\n{END}{tail}"
    if os.environ.get("UPDATE_DOCS") and text != current:
        DOC.write_text(current, encoding="utf-8")
        return
    assert text == current, "docs/cli.md is out of date: UPDATE_DOCS=1 pytest " \
                            "tests/test_cli_docs.py rewrites its reference"


def test_every_command_has_a_section() -> None:
    text = DOC.read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"\n## `unified-auth {command}" in text, command
