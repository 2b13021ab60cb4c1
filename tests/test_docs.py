"""The docs are checked: every hook has its section, links lead somewhere, examples run,
snippets are copies of files that run, and config blocks load.

- docs/plugins.md has a ``## <hook>`` section for every hookspec, giving its signature and
  whether it is firstresult as the hookspec does, then rendering the hookspec's docstring
  (mkdocstrings: ``::: unified_auth.hookspecs.<hook>``) rather than paraphrasing it; no
  other section is named like a hook. tests/test_docs_site.py builds the site.
- Every relative link in README.md and docs/*.md points to an existing file (and heading).
- Every docs/examples/*.py runs: modules are imported and their ``main()`` called (in a
  process of their own when they say ``OWN_PROCESS = True``); the tests of ``test_*.py``
  examples are collected into this module and run by pytest.
- A code block marked ``<!-- example: docs/examples/NAME.py -->`` is a verbatim part of
  that file; in the pages written from examples every Python block is marked.
- Every TOML block parses; config blocks load (or, marked ``<!-- error -->``, fail with
  exactly the message in the ``text`` block that follows); the routes table of
  docs/config.md matches what the router does.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import pytest

import unified_auth
import unified_auth.errors
from unified_auth import hookspecs
from unified_auth.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
WRITTEN_FROM_EXAMPLES = ["quickstart.md", "config.md", "plugins.md", "security.md", "index.md",
                         "observability.md"]
CONFIG_PAGES = ["quickstart.md", "config.md", "plugins.md", "providers.md"]
WRITTEN_ELSEWHERE = {DOCS / "cli.md", DOCS / "providers.md"}  # others write these
PUBLIC_MODULES = {"unified_auth", "unified_auth.errors", "unified_auth.testing"}

HOOKS = {name: spec for name, spec in vars(hookspecs).items()
         if hasattr(spec, f"{hookspecs.PROJECT}_spec")}
HOOK_LIKE = re.compile(r"`?[a-z][a-z0-9]*(?:_[a-z0-9]+)+`?")
FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!--\s*([\w-]+)(?::\s*(.*?))?\s*-->$")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


# -- reading markdown --------------------------------------------------------------------


class Block(NamedTuple):
    page: Path
    line: int
    lang: str
    text: str
    marker: str | None  # the HTML comment right above the fence: "example", "error", ...
    argument: str | None  # what follows "example:" in the marker


def blocks(page: Path) -> list[Block]:
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        above = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = MARKER.match(above.strip())
        found.append(Block(page, index + 1, fence.group(1), "\n".join(lines[index + 1:end]),
                           marker.group(1) if marker else None,
                           marker.group(2) if marker else None))
        index = end + 1
    return found


def prose(page: Path) -> str:
    """The page without its code blocks and inline code, where links live."""
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def headings(page: Path, level: str = "#+") -> list[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    return re.findall(rf"^{level} (.+?)\s*$", text, flags=re.M)


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of ``page``."""
    seen: dict[str, int] = {}
    result = set()
    for heading in headings(page):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def section(page: Path, heading: str) -> str:
    text = page.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n") + len(heading) + 5
    end = text.find("\n## ", start)
    return text[start:] if end < 0 else text[start:end]


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


# -- 1. every hook has its section in docs/plugins.md ------------------------------------

PLUGINS_PAGE = DOCS / "plugins.md"


def test_every_hook_has_a_section_in_the_plugin_guide() -> None:
    sections = set(headings(PLUGINS_PAGE, "##"))
    assert sorted(set(HOOKS) - sections) == []


def test_every_section_named_like_a_hook_is_a_hook() -> None:
    hook_like = [h for h in headings(PLUGINS_PAGE, "##") if HOOK_LIKE.fullmatch(h)]
    assert sorted(set(hook_like) - set(HOOKS)) == []


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_each_hook_section_gives_the_hookspec_signature(name: str) -> None:
    spec = HOOKS[name]
    params = ", ".join(inspect.signature(spec).parameters)
    returns = spec.__annotations__["return"]
    firstresult = getattr(spec, f"{hookspecs.PROJECT}_spec")["firstresult"]
    expected = f"`{name}({params}) -> {returns}`" + (", firstresult" if firstresult else "")

    first_line, *rest = section(PLUGINS_PAGE, name).strip().splitlines()

    assert first_line == expected
    assert next(line for line in rest if line.strip()) == f"::: unified_auth.hookspecs.{name}"


def test_the_hook_reference_renders_every_hook() -> None:
    page = (DOCS / "reference" / "hooks.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\s+- (\w+)$", page.partition("members:")[2], flags=re.M)
    assert sorted(listed) == sorted(HOOKS)


def test_the_public_api_and_every_error_are_documented_for_plugin_authors() -> None:
    text = PLUGINS_PAGE.read_text(encoding="utf-8")
    names = [*unified_auth.__all__, *unified_auth.errors.__all__]
    assert [name for name in names if f"`{name}`" not in text] == []


# -- 2. every relative link leads somewhere ---------------------------------------------


def links() -> list[Any]:
    return list(_links())


def _links() -> Iterator[Any]:
    for page in PAGES:
        for target in LINK.findall(prose(page)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # https:, mailto:
            yield pytest.param(page, target, id=f"{relative(page)}->{target}")


@pytest.mark.parametrize(("page", "target"), links())
def test_relative_links_point_to_existing_files_and_headings(page: Path, target: str) -> None:
    path_part, _, anchor = target.partition("#")
    linked = (page.parent / path_part).resolve() if path_part else page
    if not linked.exists() and linked in WRITTEN_ELSEWHERE:
        pytest.skip(f"{relative(linked)} is not written yet")
    assert linked.exists(), f"{relative(page)} links to {target}, which does not exist"
    if anchor and linked.suffix == ".md":
        assert anchor in anchors(linked), f"{relative(linked)} has no heading #{anchor}"


# -- 3. every example runs ---------------------------------------------------------------

# The example tests import the example plugins by module name, as a plugin's tests would:
# the loose examples, and the third-party plugin package (its src/ and its tests/).
ACME = EXAMPLES / "unified-auth-acme"
for _directory in (EXAMPLES, ACME / "src", ACME / "tests"):
    sys.path.insert(0, str(_directory))
EXAMPLE_FILES = sorted([*EXAMPLES.glob("*.py"), *(ACME / "src").rglob("*.py"),
                        *(ACME / "tests").glob("*.py")])
EXAMPLE_TESTS = [path for path in EXAMPLE_FILES if path.name.startswith("test_")]

# Collect the example tests here, so that `pytest` (whose testpaths is tests/) runs them.
for _path in EXAMPLE_TESTS:
    pytest.register_assert_rewrite(_path.stem)
    for _name, _test in vars(importlib.import_module(_path.stem)).items():
        if _name.startswith("test_") and inspect.isfunction(_test):
            globals()[f"test_example_{_path.stem.removeprefix('test_')}__{_name[5:]}"] = _test


def import_example(path: Path) -> ModuleType:
    """The example at ``path``, imported under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"docs_example_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def installed_providers() -> set[str]:
    return set(unified_auth.load({"targets": {}}).providers)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: path.name)
def test_every_example_runs(path: Path) -> None:
    if path in EXAMPLE_TESTS:
        collected = [name for name in globals()
                     if name.startswith(f"test_example_{path.stem.removeprefix('test_')}__")]
        assert collected, f"{path.name} has no tests"
        return
    module = import_example(path)
    missing = set(getattr(module, "NEEDS", ())) - installed_providers()
    if missing:
        pytest.skip(f"needs the providers {sorted(missing)}")
    if getattr(module, "OWN_PROCESS", False):
        # It sets process-wide state (OpenTelemetry's global providers, settable once).
        done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return
    main = getattr(module, "main", None)
    if main is not None:
        main()


def _ours(module: str) -> bool:
    """Whether ``module`` is unified-auth's (``unified_auth_acme`` is a plugin's own)."""
    return module.split(".")[0] == "unified_auth"


def public_api_violations(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and _ours(node.module or ""):
            if node.module not in PUBLIC_MODULES:
                found.append(f"line {node.lineno}: from {node.module} import ...")
            elif node.module == "unified_auth":
                found += [f"line {node.lineno}: {alias.name} is not in unified_auth.__all__"
                          for alias in node.names if alias.name not in unified_auth.__all__]
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {alias.name}" for alias in node.names
                      if _ours(alias.name) and alias.name not in PUBLIC_MODULES]
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "unified_auth" and node.attr not in unified_auth.__all__):
            found.append(f"line {node.lineno}: unified_auth.{node.attr} is not public")
    return found


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: path.name)
def test_examples_use_only_the_public_api(path: Path) -> None:
    assert public_api_violations(path) == []


# -- 4. snippets are copies of files that run --------------------------------------------


def example_blocks() -> list[Any]:
    return list(_example_blocks())


def _example_blocks() -> Iterator[Any]:
    for page in PAGES:
        for block in blocks(page):
            if block.marker == "example":
                yield pytest.param(block, id=f"{relative(page)}:{block.line}")


@pytest.mark.parametrize("block", example_blocks())
def test_example_snippets_are_verbatim_parts_of_their_files(block: Block) -> None:
    source = ROOT / (block.argument or "")
    assert source.is_file(), f"{relative(block.page)}:{block.line}: no file {block.argument}"
    snippet, whole = block.text.strip("\n"), source.read_text(encoding="utf-8")
    assert f"\n{snippet}\n" in f"\n{whole}\n", (
        f"{relative(block.page)}:{block.line} differs from {block.argument}: copy it again")


@pytest.mark.parametrize("name", WRITTEN_FROM_EXAMPLES)
def test_every_python_block_is_taken_from_an_example(name: str) -> None:
    unmarked = [block.line for block in blocks(DOCS / name)
                if block.lang == "python" and block.marker != "example"]
    assert unmarked == [], f"docs/{name}: mark these blocks <!-- example: docs/examples/... -->"


@pytest.mark.parametrize("block", [b for b in blocks(DOCS / "quickstart.md")
                                   if b.lang == "python"], ids=lambda b: f"line {b.line}")
def test_the_quickstart_snippets_run_as_copied(block: Block, tmp_path: Path) -> None:
    # Run the block's own text in a fresh namespace: a name it forgot to import or define
    # (the NameError of a copied snippet) fails here. Only the API is the emulator's.
    from unified_auth.testing import LianaEmulator

    namespace: dict[str, Any] = {"__name__": "copied_snippet"}
    exec(compile(block.text, f"docs/quickstart.md:{block.line}", "exec"), namespace)
    (function,) = [value for value in namespace.values()
                   if inspect.isfunction(value) and value.__module__ == "copied_snippet"]
    with LianaEmulator() as liana:
        client_id, secret = liana.create_credential("copied snippet")
        (tmp_path / "liana.secret").write_text(secret, encoding="utf-8")
        config = tmp_path / "unified-auth.toml"
        config.write_text(
            f'[targets.mailer]\nprovider = "liana"\nhosts = ["{liana.url}/v1/"]\n'
            f'client_id = "{client_id}"\nclient_secret = {{ file = "{tmp_path}/liana.secret" }}\n'
            f'token_url = "{liana.token_url}"\n', encoding="utf-8")
        result = function(str(config), liana.url)
    answer = result[0] if isinstance(result, tuple) else result
    assert answer["succeed"] is True


def shell_examples() -> list[Any]:
    return [pytest.param(block, id=f"{relative(block.page)}:{block.line}")
            for page in PAGES for block in blocks(page) if block.marker == "shell-example"]


@pytest.mark.parametrize("block", shell_examples())
def test_shell_examples_run_as_written(block: Block, tmp_path: Path) -> None:
    # As a user would: bash, the installed console script, a fresh directory; background
    # jobs (the emulators) are stopped when the block ends.
    script = f"set -e\ntrap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n{block.text}\n"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("UNIFIED_AUTH_CONFIG", None)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    where = f"{relative(block.page)}:{block.line}"
    assert done.returncode == 0, f"{where}\n{done.stdout}\n{done.stderr}"


# -- 5. config blocks parse and load -----------------------------------------------------

CONFIG_TABLES = {"targets", "cache", "refresh"}


def toml_blocks() -> list[Any]:
    return list(_toml_blocks())


def _toml_blocks() -> Iterator[Any]:
    for name in CONFIG_PAGES:
        page_blocks = blocks(DOCS / name)
        for index, block in enumerate(page_blocks):
            if block.lang == "toml":
                following = page_blocks[index + 1] if index + 1 < len(page_blocks) else None
                yield pytest.param(block, following, id=f"docs/{name}:{block.line}")


def load_or_skip(config: Any, **kwargs: Any) -> unified_auth.UnifiedAuth:
    """Load ``config`` with the example plugin too; skip if a provider isn't installed."""
    import unified_auth_acme  # from docs/examples/unified-auth-acme/src, on sys.path above

    plugins = [unified_auth_acme]
    available = set(unified_auth.load({"targets": {}}, plugins=plugins).providers)
    raw = config if isinstance(config, dict) else tomllib.loads(config.read_text("utf-8"))
    needed = {table.get("provider") for table in raw.get("targets", {}).values()}
    if needed - available:
        pytest.skip(f"needs the providers {sorted(needed - available)}")
    return unified_auth.load(config, plugins=plugins, **kwargs)


@pytest.mark.parametrize(("block", "following"), toml_blocks())
def test_config_blocks_parse_and_load(block: Block, following: Block | None, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    where = f"{relative(block.page)}:{block.line}"
    parsed = tomllib.loads(block.text)
    if not set(parsed) & CONFIG_TABLES:
        return  # not a config (an entry point in pyproject.toml)
    if block.marker != "error":
        load_or_skip(parsed)
        return
    assert following is not None, f"{where}: an error block needs a text block after it"
    assert following.lang == "text", f"{where}: an error block needs a text block after it"
    monkeypatch.chdir(tmp_path)
    Path("unified-auth.toml").write_text(block.text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_or_skip(Path("unified-auth.toml"))
    assert str(error.value) == following.text.strip(), f"{where}: the message has changed"


def routes() -> list[Any]:
    return list(_routes())


def _routes() -> Iterator[Any]:
    page = DOCS / "config.md"
    lines = page.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("<!-- routes"))
    config = [b for b in blocks(page) if b.lang == "toml" and b.line < start + 1][-1]
    for line in lines[start + 3:]:
        if not line.startswith("|"):
            break
        url_cell, target_cell = line.strip("|").split("|")[:2]
        url = re.search(r"`([^`]+)`", url_cell)
        target = re.match(r"\s*`([^`]+)`", target_cell)
        assert url is not None, line
        yield pytest.param(config.text, url.group(1), target.group(1) if target else None,
                           id=url.group(1))


@pytest.mark.parametrize(("config", "url", "expected"), routes())
def test_the_routes_table_of_the_config_guide_is_what_the_router_does(
    config: str, url: str, expected: str | None
) -> None:
    hub = load_or_skip(tomllib.loads(config))
    target = hub.config.router.match(url)
    assert (target.name if target else None) == expected
