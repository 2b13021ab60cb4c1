"""The ``unified-auth`` command (also ``python -m unified_auth``).

One module per command; this one holds the group, the global options and the translation of
errors into exit statuses:

- 0: success;
- 1: a failure (a target whose credentials could not be obtained, an HTTP error status, any
  :class:`~unified_auth.errors.UnifiedAuthError`);
- 2: a config error (:class:`~unified_auth.errors.ConfigError`) or a usage error;
- 130: interrupted (Ctrl-C).

Errors are one line on stderr, without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from typing import Any

import click

# The command modules, not their commands: ``unified_auth.cli.check`` stays the module.
from unified_auth.cli import _logging, check, demo, emulator, output, plugins, request, token
from unified_auth.errors import ConfigError, UnifiedAuthError

__all__ = ["EXIT_CONFIG", "EXIT_FAILURE", "EXIT_INTERRUPTED", "cli", "main"]

EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130
PROG_NAME = "unified-auth"
_DEBUG = "unified_auth.debug"


class _Cli(click.Group):
    """A group that turns the library's errors into a message and an exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            _fail(ctx, exc, EXIT_CONFIG)
        except UnifiedAuthError as exc:
            _fail(ctx, exc, EXIT_FAILURE)
        except KeyboardInterrupt:
            output.error("interrupted")
            ctx.exit(EXIT_INTERRUPTED)


def _fail(ctx: click.Context, exc: UnifiedAuthError, status: int) -> None:
    if ctx.meta.get(_DEBUG):
        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    output.error(exc.message)
    ctx.exit(status)


@click.group(PROG_NAME, cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="unified-auth", prog_name=PROG_NAME)
@click.option("--debug", is_flag=True,
              help="Show tracebacks and the library's DEBUG logs (on stderr).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """One config, many APIs: check credentials, print tokens, make authenticated requests.

    Secrets and tokens never appear in the output, except from `token`, whose job it is.
    """
    ctx.meta[_DEBUG] = debug
    ctx.call_on_close(_logging.setup_logging(debug))


for _command in (plugins.plugins, check.check, token.token, request.request,
                 emulator.emulator, demo.demo):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """The console script: run the command line ``argv`` (default: ``sys.argv[1:]``) and exit."""
    cli.main(args=list(argv) if argv is not None else None, prog_name=PROG_NAME)
