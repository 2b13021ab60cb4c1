"""``unified-auth token``: a target's current token (or header lines) on stdout, for scripts.

This is the one command whose job is to print a secret: stdout gets the value and nothing
else, so ``$(unified-auth token mailer)`` is exactly the token.
"""

from __future__ import annotations

from pathlib import Path

import click

from unified_auth.cli import logs
from unified_auth.cli.options import complete_targets, config_option, load_hub, named_targets

__all__ = ["token"]


@click.command()
@config_option
@click.option("--header", "as_header", is_flag=True,
              help="Print the header line(s) the credentials add (\"Authorization: Bearer "
                   "...\") instead of the bare token.")
@click.argument("target", shell_complete=complete_targets)
def token(config_path: Path | None, as_header: bool, target: str) -> None:
    """Print TARGET's current token (fetched, or cached and still valid) on stdout.

    \b
    Use it in shell scripts:
      curl -H "Authorization: Bearer $(unified-auth token mailer)" URL
      curl -H "$(unified-auth token mailer --header)" URL

    With --header a signature-based provider (liana-legacy) gives headers signed for a GET
    of the target's first host: they are not valid for another request.
    """
    with load_hub(config_path) as hub:
        named_targets(hub, [target])
        if not as_header:
            click.echo(hub.credentials(target).value.reveal())
            return
        headers = hub.headers(target)
    if not headers:
        logs.error(f"target {target}: its credentials add no header; try without --header")
        raise click.exceptions.Exit(1)
    for name, value in headers.items():
        click.echo(f"{name}: {value}")
