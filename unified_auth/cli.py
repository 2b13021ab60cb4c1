"""placeholder: filled by the CLI issue."""


def main() -> None:
    raise SystemExit("not yet")
