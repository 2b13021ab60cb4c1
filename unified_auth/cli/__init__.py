"""The ``unified-auth`` command (also ``python -m unified_auth``).

One module per command, imported only when its command runs: ``unified-auth token`` sits in
shell loops, and must not pay for the check table, the progress bar or the emulators. This
module holds the group, the global options and the translation of errors into exit statuses:

- 0: success;
- 1: a failure (a target whose credentials could not be obtained, an HTTP error status, any
  :class:`~unified_auth.errors.UnifiedAuthError`);
- 2: a config error (:class:`~unified_auth.errors.ConfigError`) or a usage error;
- 130: interrupted (Ctrl-C).

Errors are one line on stderr, ``error: ...``, without a traceback unless ``--debug`` is
given.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from unified_auth.cli import logs
from unified_auth.cli.options import DEBUG, config_option, debug_option, debug_option_param
from unified_auth.errors import ConfigError, UnifiedAuthError

__all__ = ["COMMANDS", "EXIT_CONFIG", "EXIT_FAILURE", "EXIT_INTERRUPTED", "cli", "main"]

EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130
PROG_NAME = "unified-auth"

COMMANDS = {name: f"unified_auth.cli.{name}"
            for name in ("cache", "check", "demo", "emulator", "plugins", "request", "token",
                         "which")}
"""Command name -> the module defining a click command of that name."""

# click >= 8.2 raises it for a group called without a command.
_NO_ARGS_IS_HELP: tuple[type[click.ClickException], ...] = tuple(
    getattr(click.exceptions, name) for name in ("NoArgsIsHelpError",)
    if hasattr(click.exceptions, name))


class _Cli(click.Group):
    """A group that loads its commands on demand and turns errors into ``error: ...``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = getattr(importlib.import_module(module), cmd_name)
        if not any(param.name == "debug" for param in command.params):
            command.params.append(debug_option_param())
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            _fail(ctx, exc, EXIT_CONFIG)
        except UnifiedAuthError as exc:
            _fail(ctx, exc, EXIT_FAILURE)
        except KeyboardInterrupt:
            logs.error("interrupted")
            ctx.exit(EXIT_INTERRUPTED)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            status = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            _usage_error(exc)
        except click.Abort:
            logs.error("interrupted")
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(status if isinstance(status, int) else 0)


def _fail(ctx: click.Context, exc: UnifiedAuthError, status: int) -> None:
    if ctx.meta.get(DEBUG):
        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    logs.error(exc.message)
    ctx.exit(status)


def _usage_error(exc: click.ClickException) -> NoReturn:
    """click's report of a usage error, but saying ``error:`` like every other message."""
    if isinstance(exc, _NO_ARGS_IS_HELP):
        exc.show()  # `unified-auth` alone: the help, which is no error message
        sys.exit(exc.exit_code)
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        click.echo(ctx.get_usage(), err=True)
        click.echo(f"Try '{ctx.command_path} -h' for help.\n", err=True)
    logs.error(exc.format_message())
    sys.exit(exc.exit_code)


@click.group(PROG_NAME, cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="unified-auth", prog_name=PROG_NAME)
@config_option
@debug_option
@click.pass_context
def cli(ctx: click.Context, config_path: object) -> None:
    """One config, many APIs: check credentials, print tokens, make authenticated requests.

    --config and --debug may also follow the command name. Secrets and tokens never appear
    in the output, except from `token`, whose job it is.
    """
    # config_path waits in ctx.meta, where each command's own --config finds it.
    ctx.call_on_close(logs.setup_logging(bool(ctx.meta.get(DEBUG))))


def main(argv: Sequence[str] | None = None) -> None:
    """The console script: run the command line ``argv`` (default: ``sys.argv[1:]``) and exit."""
    cli.main(args=list(argv) if argv is not None else None, prog_name=PROG_NAME)
