"""The plugin manager: entry points, broken plugins, blame, duplicates, who wins."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pluggy
import pytest
import requests
from toy_provider import ToyKeyOptions, ToyPlugin, write_secret

import unified_auth
from unified_auth import Credentials, Secret, Target, hookimpl
from unified_auth.core.plugin_manager import Hooks, make_plugin_manager
from unified_auth.errors import ConfigError, PluginError
from unified_auth.model import SecretRef
from unified_auth.testing import load_isolated


def install_distribution(root: Path, name: str, module_source: str) -> None:
    """A real (unpacked) distribution on sys.path with an entry point in our group."""
    module = name.replace("-", "_")
    (root / f"{module}.py").write_text(textwrap.dedent(module_source))
    info = root / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[unified_auth]\n{module} = {module}\n")


ACME_PLUGIN = """
        import attrs
        from unified_auth import hookimpl

        @attrs.frozen
        class AcmeOptions:
            region: str = "eu"

        @hookimpl
        def register_providers(register):
            register("acme", AcmeOptions)
    """
"""An installed third-party plugin that registers the provider ``acme``."""


def test_installed_entry_points_are_loaded(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    install_distribution(tmp_path, "ua-acme", ACME_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    hub = unified_auth.load({"targets": {}})
    assert hub.provider_info["acme"].plugin == "ua_acme"
    assert {"liana", "liquidplanner", "liana-legacy", "basic", "api-key"} <= set(hub.providers)


def test_load_isolated_leaves_the_installed_plugins_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_distribution(tmp_path, "ua-acme", ACME_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    isolated = load_isolated({"targets": {}}, plugins=[ToyPlugin()])
    assert set(isolated.providers) == {"toy", "toy-key"}
    assert "acme" in unified_auth.load({"targets": {}}).providers


def test_a_broken_plugin_is_a_warning_naming_its_distribution(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    install_distribution(tmp_path, "ua-broken", "raise ImportError('missing dependency foo')")
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="unified_auth"):
        hub = unified_auth.load({"targets": {}})
    assert "ua-broken" in caplog.text and "missing dependency foo" in caplog.text
    [broken] = [b for b in hub.broken_plugins if b.name == "ua_broken"]
    assert broken.distribution == "ua-broken"
    assert "ImportError: missing dependency foo" in broken.error
    assert "liana" in hub.providers  # the others still work


def test_an_installed_plugin_with_a_misspelled_hook_is_skipped_as_broken(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_distribution(tmp_path, "ua-typo", """
        from unified_auth import hookimpl

        @hookimpl
        def get_credential(target, http, now):
            return None
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    hub = unified_auth.load({"targets": {}})
    [broken] = [b for b in hub.broken_plugins if b.name == "ua_typo"]
    assert "unknown hook 'get_credential'" in broken.error
    assert "liana" in hub.providers


def test_options_with_unresolvable_type_hints_are_refused(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    install_distribution(tmp_path, "ua-hidden", """
        from __future__ import annotations
        from typing import TYPE_CHECKING
        import attrs
        from unified_auth import hookimpl
        if TYPE_CHECKING:
            from unified_auth import Secret

        @attrs.frozen
        class HiddenOptions:
            key: Secret

        @hookimpl
        def register_providers(register):
            register("hidden", HiddenOptions)
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match="type hints of HiddenOptions cannot be resolved"):
        unified_auth.load({"targets": {"h": {"provider": "hidden", "hosts": ["a.example.com"],
                                             "key": "clear-text-canary"}}})


def test_a_misspelled_hookimpl_is_an_error_not_silence() -> None:
    class Typo:
        @hookimpl
        def get_credential(self, target: Any) -> None:  # missing "s"
            return None

    with pytest.raises(pluggy.PluginValidationError, match="get_credential"):
        make_plugin_manager([Typo()], entry_points=False)


def test_an_exception_from_a_plugin_is_wrapped_with_its_name(tmp_path: Path) -> None:
    class Exploding(ToyPlugin):
        @hookimpl
        def get_credentials(self, target: Any, http: Any, now: Any) -> None:
            raise RuntimeError("kaboom")

    key = write_secret(tmp_path / "k", "secret-value-123")
    plugin = Exploding()
    hub = load_isolated({"targets": {"k": {"provider": "toy-key", "hosts": ["a.example.com"],
                                              "key": {"file": str(key)}}}},
                        plugins=[plugin])
    with pytest.raises(PluginError) as failure:
        hub.credentials("k")
    assert "kaboom" in str(failure.value)
    assert failure.value.plugin == hub._hooks.pm.get_name(plugin)


def test_a_provider_registered_twice_is_an_error() -> None:
    class Again:
        @hookimpl
        def register_providers(self, register: Any) -> None:
            register("toy", ToyKeyOptions)

    with pytest.raises(ConfigError, match="provider 'toy' is registered by two plugins"):
        load_isolated({"targets": {}}, plugins=[ToyPlugin(), Again()])


def test_an_options_class_must_be_attrs() -> None:
    class NotAttrs:
        @hookimpl
        def register_providers(self, register: Any) -> None:
            register("plain", dict)

    with pytest.raises(PluginError, match="must be an attrs class"):
        load_isolated({"targets": {}}, plugins=[NotAttrs()])


def test_a_plugin_resolver_wins_over_the_core_for_the_same_kind(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class EnvFromVault:
        @hookimpl
        def resolve_secret(self, ref: SecretRef) -> Secret | None:
            return Secret("from-the-plugin") if ref.kind == "env" else None

    monkeypatch.setenv("UA_KEY", "from-the-environment")
    hub = load_isolated(
        {"targets": {"k": {"provider": "toy-key", "hosts": ["a.example.com"],
                           "key": {"env": "UA_KEY"}}}},
        plugins=[ToyPlugin(), EnvFromVault()])
    assert hub.credentials("k").value.reveal() == "from-the-plugin"


def test_a_plugin_can_add_a_secret_kind() -> None:
    class Vault:
        @hookimpl
        def resolve_secret(self, ref: SecretRef) -> Secret | None:
            return Secret(f"vault:{ref.location}") if ref.kind == "vault" else None

    hub = load_isolated(
        {"targets": {"k": {"provider": "toy-key", "hosts": ["a.example.com"],
                           "key": {"vault": "kv/api"}}}},
        plugins=[ToyPlugin(), Vault()])
    assert hub.credentials("k").value.reveal() == "vault:kv/api"


def test_each_load_gets_a_fresh_plugin_manager() -> None:
    first = load_isolated({"targets": {}}, plugins=[ToyPlugin()])
    second = load_isolated({"targets": {}})
    assert "toy" in first.providers and "toy" not in second.providers


def test_target_warnings_collect_from_every_plugin() -> None:
    @attrs.frozen
    class Opts:
        pass

    class Warner:
        @hookimpl
        def register_providers(self, register: Any) -> None:
            register("warned", Opts)

        @hookimpl
        def target_warnings(self, target: Any, now: Any) -> list[str] | None:
            return ["rotate soon"] if target.provider == "warned" else None

    hub = load_isolated({"targets": {"w": {"provider": "warned", "hosts": ["a.example.com"]}}},
                        plugins=[Warner()])
    assert hub.warnings("w") == ["rotate soon"]
    hooks = Hooks(make_plugin_manager([Warner()], entry_points=False)[0])
    assert hooks.target_warnings(hub.targets["w"], now=None) == ["rotate soon"]  # type: ignore[arg-type]


class Recorder:
    """A provider plugin that records which of its hooks the core called, and for whom."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.calls: list[tuple[str, str]] = []

    @hookimpl
    def register_providers(self, register: Any) -> None:
        register(self.provider, ToyKeyOptions)

    @hookimpl
    def get_credentials(self, target: Target) -> Credentials:
        self.calls.append(("get_credentials", target.name))
        return Credentials(value=target.options.key, expires_at=None)

    @hookimpl
    def apply_auth(self, target: Target, credentials: Credentials,
                   request: requests.PreparedRequest) -> bool:
        self.calls.append(("apply_auth", target.name))
        request.headers[target.options.header] = credentials.value.reveal()
        return True

    @hookimpl
    def target_warnings(self, target: Target) -> list[str]:
        self.calls.append(("target_warnings", target.name))
        return [f"{self.provider} says hello"]

    @hookimpl
    def explain_response(self, target: Target) -> str:
        self.calls.append(("explain_response", target.name))
        return f"{self.provider} explains"


def recorders_hub(*extra: object, count: int = 20) -> tuple[unified_auth.UnifiedAuth,
                                                            list[Recorder]]:
    recorders = [Recorder(f"p{i}") for i in range(count)]
    targets = {f"t{i}": {"provider": f"p{i}", "hosts": [f"t{i}.example.com"],
                         "key": f"key-{i}"} for i in range(count)}
    hub = load_isolated({"targets": targets}, plugins=[*recorders, *extra])
    return hub, recorders


def test_each_target_hook_reaches_only_the_plugin_that_registered_its_provider() -> None:
    hub, recorders = recorders_hub()
    assert hub.headers("t7") == {"X-Toy-Key": "key-7"}
    assert hub._hooks.target_warnings(hub.target("t7"), datetime.now(UTC)) == ["p7 says hello"]
    response = requests.Response()
    response.status_code = 403
    assert hub._hooks.explain_response(hub.target("t7"), response) == "p7 explains"
    assert set(recorders[7].calls) == {("get_credentials", "t7"), ("apply_auth", "t7"),
                                       ("target_warnings", "t7"), ("explain_response", "t7")}
    assert all(not r.calls for i, r in enumerate(recorders) if i != 7)


def test_a_plugin_that_registered_nothing_still_observes_every_target() -> None:
    class Auditor:
        def __init__(self) -> None:
            self.seen: list[str] = []

        @hookimpl(tryfirst=True)
        def apply_auth(self, target: Target) -> None:
            self.seen.append(target.name)

        @hookimpl
        def target_warnings(self, target: Target) -> list[str]:
            return [f"audited {target.name}"]

    auditor = Auditor()
    hub, recorders = recorders_hub(auditor, count=3)
    assert hub.headers("t1") == {"X-Toy-Key": "key-1"}
    assert hub.headers("t2") == {"X-Toy-Key": "key-2"}
    assert auditor.seen == ["t1", "t2"]
    assert sorted(hub._hooks.target_warnings(hub.target("t1"), datetime.now(UTC))) == [
        "audited t1", "p1 says hello"]
    assert not recorders[0].calls


@pytest.mark.parametrize("style", ["wrapper", "hookwrapper"])
def test_hook_wrappers_still_wrap_the_owners_call(style: str) -> None:
    class Timer:
        def __init__(self) -> None:
            self.wrapped: list[tuple[str, object]] = []

        if style == "wrapper":
            @hookimpl(wrapper=True)
            def apply_auth(self, target: Target) -> Generator[None, object, object]:
                result = yield
                self.wrapped.append((target.name, result))
                return result
        else:
            @hookimpl(hookwrapper=True)
            def apply_auth(self, target: Target) -> Generator[None, Any, None]:
                outcome = yield
                self.wrapped.append((target.name, outcome.get_result()))

    timer = Timer()
    hub, recorders = recorders_hub(timer, count=3)
    for _ in range(2):  # the second call uses the dispatch resolved by the first
        assert hub.headers("t2") == {"X-Toy-Key": "key-2"}
    assert timer.wrapped == [("t2", True), ("t2", True)]
    assert recorders[2].calls.count(("apply_auth", "t2")) == 2
    assert not recorders[1].calls


@pytest.mark.parametrize("wrapped", [False, True], ids=["direct", "through-a-wrapper"])
def test_a_failing_owner_is_named_by_its_plugin_name(wrapped: bool) -> None:
    class Broken(Recorder):
        @hookimpl
        def apply_auth(self, target: Target) -> bool:
            raise RuntimeError("kaboom")

    class Wrapper:
        @hookimpl(wrapper=True)
        def apply_auth(self) -> Generator[None, object, object]:
            return (yield)

    broken = Broken("broken")
    extra = [Wrapper()] if wrapped else []
    hub = load_isolated(
        {"targets": {"b": {"provider": "broken", "hosts": ["b.example.com"], "key": "k"}}},
        plugins=[broken, *[Recorder(f"p{i}") for i in range(5)], *extra])
    for _ in range(2):
        with pytest.raises(PluginError, match="kaboom") as failure:
            hub.headers("b")
        assert failure.value.plugin == hub._hooks.pm.get_name(broken)
    assert hub._hooks.owner("broken") == hub._hooks.pm.get_name(broken)


def test_no_datetime_is_made_for_an_apply_auth_that_does_not_ask_for_now() -> None:
    made: list[datetime] = []

    def now() -> datetime:
        made.append(datetime.now(UTC))
        return made[-1]

    class Signer(Recorder):
        @hookimpl
        def apply_auth(self, request: requests.PreparedRequest, now: datetime) -> bool:
            request.headers["X-Date"] = now.isoformat()
            return True

    hooks = Hooks(make_plugin_manager([Recorder("plain"), Signer("signed")],
                                      entry_points=False)[0])
    credentials = Credentials(value=Secret("v"), expires_at=None)
    options = ToyKeyOptions(key=Secret("v"))
    plain = Target("a", "plain", ("a.example.com",), options)
    signed = Target("s", "signed", ("s.example.com",), options)
    request = requests.PreparedRequest()
    request.prepare_headers({})
    for _ in range(3):
        assert hooks.apply_auth(plain, credentials, request, now)
    assert made == []
    for _ in range(2):
        assert hooks.apply_auth(signed, credentials, request, now)
    assert len(made) == 2 and request.headers["X-Date"] == made[-1].isoformat()


def test_a_target_of_an_unregistered_provider_gets_no_plugin_at_all() -> None:
    hub, recorders = recorders_hub(count=2)
    stray = Target("x", "nobody", ("x.example.com",), ToyKeyOptions(key=Secret("v")))
    assert hub._hooks.get_credentials(stray, requests.Session(), datetime.now(UTC)) is None
    assert hub._hooks.target_warnings(stray, datetime.now(UTC)) == []
    assert not any(r.calls for r in recorders)
