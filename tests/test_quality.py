"""Quality gates that CI enforces: ruff, bandit, mypy --strict, README's commands being true.

The lint and types gates run exactly the commands of tox.ini's ``lint`` and ``types``
environments, read from it, so ``pytest`` and ``tox -e lint,types`` cannot drift apart.
"""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _tox_env(name: str) -> configparser.SectionProxy:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini", encoding="utf-8")
    return tox[f"testenv:{name}"]


def _tox_commands(name: str) -> list[list[str]]:
    lines = [line.strip() for line in _tox_env(name)["commands"].splitlines()]
    return [shlex.split(line) for line in lines if line]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def test_ruff_is_clean_as_tox_lint_runs_it() -> None:
    command = next(c for c in _tox_commands("lint") if c[0] == "ruff")
    assert command[:2] == ["ruff", "check"]
    done = subprocess.run([_tool("ruff"), *command[1:]], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_bandit_is_clean_as_tox_lint_runs_it() -> None:
    bandit = next(c for c in _tox_commands("lint") if c[0] == "bandit")
    assert bandit[-2:] == ["unified_auth", "plugins"]
    done = subprocess.run([_tool("bandit"), *bandit[1:]], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean_as_tox_types_runs_it() -> None:
    (command,) = _tox_commands("types")
    assert command[0] == "mypy"
    done = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower().replace("_", "-")
            for r in requirements}


def _dependencies_of(names: set[str]) -> set[str]:
    """The distributions ``names`` pull in (unconditional requirements), recursively."""
    found, todo = set(names), list(names)
    while todo:
        try:
            requires = importlib.metadata.requires(todo.pop()) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for name in _requirement_names([r for r in requires if ";" not in r]) - found:
            found.add(name)
            todo.append(name)
    return found


def test_the_types_env_installs_every_package_mypy_follows() -> None:
    # tox's types env installs the dependencies and its extras only: every third-party
    # module the checked packages import must come from them, or mypy cannot type it.
    env = _tox_env("types")
    project = PYPROJECT["project"]
    available = _requirement_names(project["dependencies"])
    for extra in env["extras"].split():
        available |= _requirement_names(project["optional-dependencies"][extra])
    available |= _dependencies_of(available)  # urllib3 comes with requests
    ignored = {m.removesuffix(".*") for o in PYPROJECT["tool"]["mypy"]["overrides"]
               if o.get("ignore_missing_imports") for m in o["module"]}
    ours = {"unified_auth", *(p.name for p in (ROOT / "plugins").iterdir() if p.is_dir())}
    distributions = importlib.metadata.packages_distributions()
    missing = set()
    for path in [*(ROOT / "unified_auth").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     and not node.level else [])
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ours or top in ignored:
                    continue
                dists = {d.lower().replace("_", "-") for d in distributions.get(top, [top])}
                if not dists & available:
                    missing.add(f"{top} ({path.relative_to(ROOT)})")
    assert sorted(missing) == [], "add them to the extras of tox's types env"


def test_the_docs_env_builds_the_site_strictly_and_runs_the_docs_tests() -> None:
    commands = _tox_commands("docs")
    assert any(c[:3] == ["mkdocs", "build", "--strict"] for c in commands)
    assert any(c[0] == "pytest" and "tests/test_docs.py" in c for c in commands)


def _sh_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, flags=re.S)]


def test_ci_runs_exactly_the_test_command_of_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = next(b for b in _sh_blocks(readme) if "pytest" in b)
    ci_lines = [line.strip() for line in ci.splitlines()]
    assert test_command in ci_lines
    assert ci_lines[-1] == test_command


def test_the_readme_main_job_runs_the_demo() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert any(b.endswith("unified-auth demo") for b in _sh_blocks(readme))


def test_every_package_in_the_tree_is_shipped() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "unified_auth").rglob("__init__.py")}
    found |= {p.parent.name for p in (ROOT / "plugins").glob("*/__init__.py")}
    assert found - shipped == set(), "add these to [tool.setuptools] packages"


def test_the_words_point_at_files_that_exist() -> None:
    # A test file or doc page named in the README, CI script or docs must exist: stale
    # words ("tests/test_readme.py keeps them equal") mislead whoever reads them.
    texts = [ROOT / "README.md", ROOT / ".ci" / "run", *sorted((ROOT / "docs").glob("*.md"))]
    # From the repository's root only: a path inside a package's folder (its own tests/)
    # is written after that folder, or in a layout block, and not meant from the root.
    named = {m for path in texts
             for m in re.findall(r"(?<![\w./-])((?:tests|docs)/[\w./-]+\.(?:py|md))\b",
                                 re.sub(r"^```text\n.*?^```", "", path.read_text("utf-8"),
                                        flags=re.M | re.S))}
    assert sorted(n for n in named if not (ROOT / n).exists()) == []


def test_the_license_is_the_one_pyproject_declares() -> None:
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    assert (ROOT / "CHANGELOG.md").is_file()


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_of(path: Path) -> str:
    top = ROOT / "plugins" if ROOT / "plugins" in path.parents else ROOT
    parts = path.relative_to(top).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private_imports(text: str, module: str, *, package: bool = False) -> list[str]:
    """Imports in ``module`` (source ``text``) of another module's private names."""
    home = module.split(".") if package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            sources, names = [alias.name for alias in node.names], []
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            base = home[:len(home) - node.level + 1] if node.level else []
            sources = [".".join([*base, *([node.module] if node.module else [])])]
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [f"{node.lineno}: {name} from {sources[0]}" for name in names if _private(name)]
        # Ours only: a library's private module (rich._ratio) is its own promise to break.
        for source in (s for s in sources if s.split(".")[0].startswith("unified_auth")):
            # A private module's public names may be imported by its siblings only.
            sibling = source.rpartition(".")[0] == ".".join(home)
            if any(_private(part) for part in source.split(".")) and not sibling:
                found.append(f"{node.lineno}: {source}")
    return found


def test_no_module_imports_a_private_name_of_another() -> None:
    # A private name is a promise to change it freely; an import from elsewhere breaks that
    # promise silently. Shared helpers get plain names where they belong.
    files = sorted([*(ROOT / "unified_auth").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")])
    hits = [f"{path.relative_to(ROOT)}:{hit}" for path in files
            for hit in _private_imports(path.read_text(encoding="utf-8"), _module_of(path),
                                        package=path.name == "__init__.py")]
    assert hits == []


@pytest.mark.parametrize(("line", "hits"), [
    ("from unified_auth.clients.requests_adapter import _explain, _failed", 2),
    ("from . import _logging", 1),
    ("from .._common import load_hub", 1),
    ("from unified_auth.testing._server import Request", 1),
    ("import unified_auth._hidden", 1),
    ("from unified_auth.cli.demo._parts import Part", 0),  # a sibling's public name
    ("from ._parts import Part", 0),
    ("from __future__ import annotations", 0),
    ("from unified_auth.cli.logs import error", 0),
    ("from unified_auth import __version__", 0),
    ("from unified_auth_legacy._sig import sign", 1),
])
def test_the_private_import_scan_finds_what_it_looks_for(line: str, hits: int) -> None:
    # The scan passing proves nothing unless it can fail: feed it each shape it forbids.
    assert len(_private_imports(line, "unified_auth.cli.demo.story")) == hits


def test_a_module_past_300_lines_says_why_in_its_docstring() -> None:
    # About 300 lines is a smell, not a limit (house rule 6): a longer module either splits
    # at a natural seam or tells its reader why it is one piece.
    files = sorted([*(ROOT / "unified_auth").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")])
    unexplained = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > 300 and "300 lines" not in docstring:
            unexplained.append(str(path.relative_to(ROOT)))
    assert unexplained == []
