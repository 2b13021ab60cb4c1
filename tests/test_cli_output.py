"""Tables for people: long cells wrap at spaces and path separators, never inside a name."""

from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from unified_auth.cli import cli
from unified_auth.cli.output import ELLIPSIS, add_row, table, wrap


def test_a_path_wraps_after_its_separators() -> None:
    assert wrap("token: file /home/me/.config/unified-auth/lp.token", 20) == [
        "token: file /home/", "me/.config/", "unified-auth/", "lp.token"]


def test_a_name_wider_than_the_line_is_cut_with_an_ellipsis_keeping_its_separator() -> None:
    assert wrap("/tmp/a-very-long-folder-name/x", 12) == ["/tmp/", "a-very-l.../", "x"]
    assert wrap("unified_auth_legacy", 10) == ["unified..."]


def test_lines_and_blank_cells_are_kept() -> None:
    assert wrap("a b\nc", 10) == ["a b", "c"]
    assert wrap("", 10) == [""]


_NAME = st.text(alphabet="abcdefghij-_.", min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(_NAME, min_size=1, max_size=12), st.sampled_from([" ", "/"]),
       st.integers(min_value=8, max_value=60))
def test_no_line_is_too_wide_and_no_name_is_split(names: list[str], separator: str,
                                                  width: int) -> None:
    text = separator.join(names)
    lines = wrap(text, width)
    assert all(len(line) <= width for line in lines)
    shown = [n for line in lines for n in re.split(r"[ /]", line) if n]
    for name in shown:
        assert name in names or (name.endswith(ELLIPSIS) and any(
            n.startswith(name[:-len(ELLIPSIS)]) for n in names)), (name, lines)


@pytest.mark.parametrize("columns", [80, 120])
def test_the_plugins_table_keeps_module_names_whole(columns: int) -> None:
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert all(len(line) <= columns for line in result.stdout.splitlines())
    words = set(re.findall(r"[\w.-]+", result.stdout))
    assert {"unified_auth_legacy", "unified_auth_liquidplanner"} <= words


def test_a_table_too_narrow_for_a_name_cuts_it_with_an_ellipsis_never_splits_it() -> None:
    result = CliRunner(env={"COLUMNS": "60"}).invoke(cli, ["plugins"])
    assert all(len(line) <= 60 for line in result.stdout.splitlines())
    whole = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["plugins"]).stdout
    known = set(re.findall(r"\w[\w.-]*", whole))
    for word in re.findall(r"\w[\w.-]*", result.stdout):
        assert word in known or (word.endswith(ELLIPSIS) and any(
            k.startswith(word[:-len(ELLIPSIS)]) for k in known)), word


@pytest.mark.parametrize("ratios", [False, True])
def test_a_squeezed_table_gives_each_column_its_longest_name_before_sharing_the_rest(
        ratios: bool) -> None:
    out = io.StringIO()
    console = Console(file=out, width=60, highlight=False)
    if ratios:  # the shape `check` uses under 100 columns
        grid = table(console)
        grid.expand = True
        grid.add_column("module", ratio=2)
        grid.add_column("details", ratio=5)
        add_row(grid, "unified_auth_liquidplanner", "a long line of words " * 4)
    else:  # rich would shrink all three evenly once the two wide ones reach the module's width
        grid = table(console, "module", "hosts", "details")
        add_row(grid, "unified_auth_liquidplanner", "one two three four five six",
                "seven eight nine ten eleven")
    console.print(grid)
    lines = out.getvalue().splitlines()
    assert all(len(line) <= 60 for line in lines)
    assert "unified_auth_liquidplanner" in out.getvalue()
