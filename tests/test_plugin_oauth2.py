"""The ``oauth2`` provider: any token endpoint, every standard client authentication.

Against an independent server (oauthlib's BackendApplicationServer) for the two secret
methods, and against the bundled emulator for ``private_key_jwt``, whose assertions are
checked again here with PyJWT, a library the client does not use.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
import responses
import unified_auth_oauth2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from oauthlib_server import OAuthlibServer
from toy_provider import assert_never_offered_a_foreign_target

import unified_auth
from unified_auth import RetryPolicy, testing
from unified_auth.errors import ConfigError, CredentialsRejected, SecretError
from unified_auth.testing import ManualClock, OAuth2Emulator, assert_no_leaks

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TOKEN_URL = "https://login.example.test/oauth2/token"


@pytest.fixture
def unified_auth_clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def oauthlib_server() -> Iterator[OAuthlibServer]:
    with OAuthlibServer(scopes={"read", "write", "admin"},
                        audiences={"https://api.example.test"}) as server:
        yield server


def load(clock: ManualClock | None = None, **targets: dict[str, Any]) -> unified_auth.UnifiedAuth:
    return unified_auth.load({"targets": targets}, clock=clock,
                             retry=RetryPolicy(sleep=lambda s: None))


def secret_file(tmp_path: Path, name: str, value: str) -> dict[str, str]:
    return {"file": str(testing.write_secret(tmp_path / name, value))}


def key_target(server: OAuth2Emulator, client_id: str, pem_ref: dict[str, str],
               **options: Any) -> dict[str, Any]:
    return {"provider": "oauth2", "hosts": [f"{server.url}/api/"], "client_id": client_id,
            "token_url": server.token_url, "auth_method": "private_key_jwt",
            "private_key": pem_ref, **options}


def public_pem(private_pem: str) -> bytes:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


# -- an independent authorization server: oauthlib ----------------------------------------


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_oauthlib_issues_a_token_with_scope_and_audience(
        oauthlib_server: OAuthlibServer, tmp_path: Path, auth_method: str,
        logs: pytest.LogCaptureFixture) -> None:
    hub = load(api={
        "provider": "oauth2", "hosts": [f"{oauthlib_server.url}/api/"],
        "token_url": oauthlib_server.token_url, "client_id": oauthlib_server.client_id,
        "client_secret": secret_file(tmp_path, "client.secret", oauthlib_server.secret),
        "auth_method": auth_method, "scope": ["read", "write"],
        "audience": "https://api.example.test"})

    answer = hub.session().get(f"{oauthlib_server.url}/api/me", timeout=5)

    assert answer.status_code == 200
    assert answer.json() == {"scopes": ["read", "write"], "audience": "https://api.example.test"}
    assert oauthlib_server.validator.methods == [auth_method]
    credentials = hub.credentials("api")
    assert credentials.scope == "read write"
    assert credentials.expires_at is not None
    assert timedelta(seconds=590) < credentials.expires_at - datetime.now(UTC) \
        <= timedelta(seconds=600)
    ours = [r.getMessage() for r in logs.records if not r.name.startswith("oauthlib")]
    assert_no_leaks([*ours, repr(hub.targets), repr(credentials)],  # oauthlib logs its own
                    [oauthlib_server.secret, credentials.value.reveal()])


@pytest.mark.parametrize(("options", "error", "key"), [
    ({"scope": "read delete"}, "invalid_scope", "check scope"),
    ({"audience": "https://other.example.test"}, "invalid_target", "check resource and audience"),
])
def test_oauthlib_refusals_name_the_error_and_the_key(
        oauthlib_server: OAuthlibServer, tmp_path: Path, options: dict[str, str], error: str,
        key: str) -> None:
    hub = load(api={
        "provider": "oauth2", "hosts": [f"{oauthlib_server.url}/api/"],
        "token_url": oauthlib_server.token_url, "client_id": oauthlib_server.client_id,
        "client_secret": secret_file(tmp_path, "client.secret", oauthlib_server.secret),
        **options})

    with pytest.raises(CredentialsRejected) as caught:
        hub.credentials("api")

    assert f"(400 {error}" in str(caught.value)
    assert key in str(caught.value)


def test_oauthlib_refuses_a_wrong_secret_as_invalid_client(
        oauthlib_server: OAuthlibServer, tmp_path: Path) -> None:
    wrong = "wrong-" + oauthlib_server.secret
    hub = load(api={
        "provider": "oauth2", "hosts": [f"{oauthlib_server.url}/api/"],
        "token_url": oauthlib_server.token_url, "client_id": oauthlib_server.client_id,
        "client_secret": secret_file(tmp_path, "client.secret", wrong)})

    with pytest.raises(CredentialsRejected, match="invalid_client") as caught:
        hub.credentials("api")
    assert "client_secret points to" in str(caught.value)
    assert_no_leaks([str(caught.value)], [wrong, oauthlib_server.secret])


# -- private_key_jwt, verified by PyJWT -----------------------------------------------------


@pytest.mark.parametrize(("alg", "key_id"), [("RS256", None), ("ES256", "key-2026")])
def test_private_key_jwt_assertions_verify_with_pyjwt(
        oauth2_emulator: OAuth2Emulator, unified_auth_clock: ManualClock, tmp_path: Path,
        alg: str, key_id: str | None) -> None:
    client_id, pem = oauth2_emulator.create_key_client(alg, key_id=key_id, scopes={"read"})
    options = {"alg": alg, **({"key_id": key_id} if key_id else {})}
    hub = load(unified_auth_clock, api=key_target(
        oauth2_emulator, client_id, secret_file(tmp_path, "client.pem", pem), scope="read",
        **options))

    assert hub.session().get(f"{oauth2_emulator.url}/api/whoami", timeout=5).json()[
        "client_id"] == client_id
    unified_auth_clock.advance(3601)
    hub.credentials("api")  # a second fetch: a second assertion

    assert len(oauth2_emulator.assertions) == 2
    claims = [jwt.decode(a, public_pem(pem), algorithms=[alg], audience=oauth2_emulator.token_url,
                         issuer=client_id, options={"verify_exp": False, "require":
                                                    ["exp", "iat", "jti", "sub", "aud"]})
              for a in oauth2_emulator.assertions]
    for claim in claims:
        assert claim["sub"] == client_id
        assert 0 < claim["exp"] - claim["iat"] <= 300
    assert claims[0]["iat"] == int(START.timestamp())
    assert claims[1]["iat"] == int(START.timestamp()) + 3601
    assert claims[0]["jti"] != claims[1]["jti"]
    header = jwt.get_unverified_header(oauth2_emulator.assertions[0])
    assert header["alg"] == alg
    assert header.get("kid") == key_id


def test_an_assertion_from_a_clock_behind_is_refused_as_expired_and_explained(
        oauth2_emulator: OAuth2Emulator, tmp_path: Path, logs: pytest.LogCaptureFixture) -> None:
    client_id, pem = oauth2_emulator.create_key_client()
    late = ManualClock(datetime.fromtimestamp(oauth2_emulator._clock(), UTC)
                       - timedelta(minutes=10))  # this machine's clock is 10 minutes slow
    hub = load(late, api=key_target(oauth2_emulator, client_id,
                                    secret_file(tmp_path, "client.pem", pem)))

    with pytest.raises(CredentialsRejected) as caught:
        hub.credentials("api")

    message = str(caught.value)
    assert "invalid_client" in message
    assert "the assertion has expired" in message
    assert "clock must be right" in message
    assert "private_key points to" in message
    assert_no_leaks([message, logs.text], [pem, *oauth2_emulator.assertions])


def test_an_assertion_for_another_audience_is_refused_and_explained(
        oauth2_emulator: OAuth2Emulator, unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    client_id, pem = oauth2_emulator.create_key_client("ES256")
    oauth2_emulator.expected_audience = "https://login.example.test/issuer"
    hub = load(unified_auth_clock, api=key_target(
        oauth2_emulator, client_id, secret_file(tmp_path, "client.pem", pem), alg="ES256"))

    with pytest.raises(CredentialsRejected) as caught:
        hub.credentials("api")

    assert "aud is not this server's token endpoint" in str(caught.value)
    assert "audience (aud)" in str(caught.value)


def test_a_replayed_assertion_is_refused_and_the_client_explains_it(
        oauth2_emulator: OAuth2Emulator, unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    client_id, pem = oauth2_emulator.create_key_client()
    hub = load(unified_auth_clock, api=key_target(oauth2_emulator, client_id,
                                                  secret_file(tmp_path, "client.pem", pem)))
    hub.credentials("api")
    replay = requests.post(oauth2_emulator.token_url, timeout=5, data={
        "grant_type": "client_credentials", "client_assertion": oauth2_emulator.assertions[0],
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client"

    # The client never replays one; what it says when a server answers so is pinned by
    # playing the emulator's very answer back to it.
    target = key_target(oauth2_emulator, client_id, secret_file(tmp_path, "client.pem", pem),
                        token_url=TOKEN_URL)
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, status=401, body=replay.content,
                  content_type="application/json")
        with pytest.raises(CredentialsRejected) as caught:
            load(unified_auth_clock, api=target).credentials("api")

    message = str(caught.value)
    assert "(401 invalid_client: the assertion's jti was used before" in message
    assert "each jti once" in message
    assert_no_leaks([message], [pem])


def test_an_unregistered_key_is_rejected_naming_private_key(
        oauth2_emulator: OAuth2Emulator, unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    client_id, _ = oauth2_emulator.create_key_client()
    _, other = oauth2_emulator.create_key_client()
    hub = load(unified_auth_clock, api=key_target(oauth2_emulator, client_id,
                                                  secret_file(tmp_path, "client.pem", other)))

    with pytest.raises(CredentialsRejected) as caught:
        hub.credentials("api")

    assert "signature does not verify" in str(caught.value)
    assert "not the one registered for the client" in str(caught.value)


def test_a_rotated_key_is_picked_up_from_its_file(
        oauth2_emulator: OAuth2Emulator, unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    client_id, pem = oauth2_emulator.create_key_client()
    ref = secret_file(tmp_path, "client.pem", pem)
    hub = load(unified_auth_clock, api=key_target(oauth2_emulator, client_id, ref))
    first = hub.credentials("api")

    testing.write_secret(Path(ref["file"]), oauth2_emulator.rotate_key(client_id))
    unified_auth_clock.advance(3601)

    assert hub.credentials("api") != first
    assert oauth2_emulator.counters.tokens_issued == 2


@pytest.mark.parametrize(("value", "complaint"), [
    ("not a key at all", "is not an RSA private key in PEM form"),
    ("-----BEGIN PUBLIC KEY-----", "is not an RSA private key in PEM form"),
])
def test_an_unusable_private_key_is_a_secret_error_that_never_quotes_it(
        oauth2_emulator: OAuth2Emulator, unified_auth_clock: ManualClock, tmp_path: Path,
        value: str, complaint: str) -> None:
    client_id, _ = oauth2_emulator.create_key_client()
    hub = load(unified_auth_clock, api=key_target(oauth2_emulator, client_id,
                                                  secret_file(tmp_path, "client.pem", value)))

    with pytest.raises(SecretError) as caught:
        hub.credentials("api")

    assert "<dict>: targets.api.private_key: the value private_key points to" in str(caught.value)
    assert complaint in str(caught.value)
    assert value not in str(caught.value)
    assert oauth2_emulator.counters.token_requests == 0


def test_a_public_key_or_a_key_of_the_wrong_kind_is_refused_before_any_request(
        oauth2_emulator: OAuth2Emulator, unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    client_id, pem = oauth2_emulator.create_key_client()
    public = public_pem(pem).decode()
    cases = [({"private_key": secret_file(tmp_path, "public.pem", public)}, "is a public key"),
             ({"alg": "ES256", "private_key": secret_file(tmp_path, "rsa.pem", pem)},
              "is not a P-256 EC private key")]
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    cases.append(({"private_key": secret_file(tmp_path, "short.pem", short)},
                  "is an RSA key of 1024 bits; RS256 needs at least 2048"))
    for options, complaint in cases:
        hub = load(unified_auth_clock, api={**key_target(oauth2_emulator, client_id,
                                                         {"env": "UNUSED"}), **options})
        with pytest.raises(SecretError, match=complaint):
            hub.credentials("api")
    assert oauth2_emulator.counters.token_requests == 0


# -- config -----------------------------------------------------------------------------------


def target(**options: Any) -> dict[str, Any]:
    return {"provider": "oauth2", "hosts": ["api.example.test"], "token_url": TOKEN_URL,
            "client_id": "client-1", **options}


@pytest.mark.parametrize(("options", "key", "complaint"), [
    ({}, "client_secret", "client_secret is required with auth_method = \"client_secret_basic\""),
    ({"auth_method": "client_secret_post"}, "client_secret", "is required"),
    ({"auth_method": "private_key_jwt"}, "private_key", "private_key is required"),
    ({"auth_method": "private_key_jwt", "private_key": {"env": "K"}, "client_secret": "x" * 9},
     "client_secret", "not used with auth_method"),
    ({"client_secret": {"env": "S"}, "private_key": {"env": "K"}}, "private_key",
     "only used with auth_method"),
    ({"client_secret": {"env": "S"}, "auth_method": "tls_client_auth"}, "auth_method",
     "expected one of 'client_secret_basic', 'client_secret_post', 'private_key_jwt'"),
    ({"auth_method": "private_key_jwt", "private_key": {"env": "K"}, "alg": "HS256"}, "alg",
     "expected one of 'RS256', 'ES256'"),
    ({"client_secret": {"env": "S"}, "scope": "read\nwrite"}, "scope", "printable"),
    ({"client_secret": {"env": "S"}, "scope": [1]}, "scope", "expected"),
    ({"client_secret": {"env": "S"}, "audience": "a", "extra_params": {"audience": "b"}},
     "extra_params", "keep one of them"),
    ({"client_secret": {"env": "S"}, "token_url": "http://login.example.test/t"}, "token_url",
     "must use https"),
])
def test_config_errors_name_the_key(options: dict[str, Any], key: str, complaint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(api=target(**options))
    assert f"targets.api.{key}" in str(caught.value)
    assert complaint in str(caught.value)


def test_scope_as_a_list_or_a_string_is_sent_space_joined_with_audience_and_resource(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTH2_SECRET", "s3cret-value-1")
    sent = []
    for scope in (["read", "write"], "read write"):
        hub = load(api=target(client_secret={"env": "OAUTH2_SECRET"}, scope=scope,
                              audience="https://api.example.test",
                              resource="https://api.example.test/v2",
                              extra_params={"tenant": "acme"}))
        with responses.RequestsMock() as mock:
            mock.post(TOKEN_URL, json={"access_token": "tok-1234567890abcdef",
                                       "token_type": "Bearer", "expires_in": 60})
            assert hub.credentials("api").scope == "read write"  # the requested, by default
            sent.append(mock.calls[0].request.body)
    assert sent[0] == sent[1]
    assert sent[0] == ("grant_type=client_credentials&scope=read+write&audience=https%3A%2F%2F"
                       "api.example.test&resource=https%3A%2F%2Fapi.example.test%2Fv2&tenant=acme")


def test_defaults_and_toml_values(tmp_path: Path) -> None:
    config = tmp_path / "unified-auth.toml"
    config.write_text(textwrap.dedent('''
        [targets.api]
        provider = "oauth2"
        hosts = ["api.example.test"]
        token_url = "https://login.example.test/oauth2/token"
        client_id = "client-1"
        client_secret = { env = "OAUTH2_SECRET" }
        scope = ["read", "write"]
    '''), encoding="utf-8")
    loaded = unified_auth.load(config)
    options = loaded.targets["api"].options

    assert options.auth_method == "client_secret_basic"
    assert options.scope == "read write"
    assert options.alg == "RS256"
    assert options.default_ttl == unified_auth_oauth2.DEFAULT_TTL == 3600
    assert options.audience is options.resource is options.probe_url is None
    hash(loaded.targets["api"])  # targets stay hashable


def test_private_key_jwt_without_joserfc_is_a_config_error_naming_the_extra(
        tmp_path: Path) -> None:
    config = tmp_path / "unified-auth.toml"
    config.write_text(textwrap.dedent('''
        [targets.api]
        provider = "oauth2"
        hosts = ["api.example.test"]
        token_url = "https://login.example.test/oauth2/token"
        client_id = "client-1"
        auth_method = "private_key_jwt"
        private_key = { file = "client.pem" }
    '''), encoding="utf-8")
    script = ("import sys; sys.modules['joserfc'] = None\n"  # as if the extra were missing
              "import unified_auth\n"
              "from unified_auth.errors import ConfigError\n"
              "try:\n"
              f"    unified_auth.load({str(config)!r})\n"
              "except ConfigError as exc:\n"
              "    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)

    assert f"{config}: targets.api.auth_method:" in done.stdout
    assert "pip install 'unified-auth[jwt]'" in done.stdout


def test_probe_url_is_fetched_with_the_token(
        oauth2_emulator: OAuth2Emulator, unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    client_id, secret = oauth2_emulator.create_client()
    hub = load(unified_auth_clock, api={
        "provider": "oauth2", "hosts": [f"{oauth2_emulator.url}/api/"],
        "token_url": oauth2_emulator.token_url, "client_id": client_id,
        "client_secret": secret_file(tmp_path, "client.secret", secret),
        "probe_url": f"{oauth2_emulator.url}/api/whoami"})

    report = unified_auth_oauth2.probe(target=hub.targets["api"], http=hub.session())

    assert report == f"client {client_id} (GET {oauth2_emulator.url}/api/whoami: 200 OK)"


def test_the_core_never_offers_it_another_providers_target() -> None:
    assert_never_offered_a_foreign_target(unified_auth_oauth2)


def test_the_providers_guide_shows_one_config_per_client_authentication() -> None:
    # test_docs.py loads every config block of the guide; this pins that the oauth2
    # section has one for each method, the default one written without auth_method.
    page = (Path(__file__).parent.parent / "docs" / "providers.md").read_text(encoding="utf-8")
    section = page.split("## `oauth2`", 1)[1].split("\n## ", 1)[0]
    configs = [tomllib.loads(block) for block in section.split("```toml\n")[1:]
               for block in [block.split("```", 1)[0]]]
    methods = [next(iter(c["targets"].values())).get("auth_method", "client_secret_basic")
               for c in configs]
    assert methods == ["client_secret_basic", "client_secret_post", "private_key_jwt"]
    for config in configs:
        assert load(**config["targets"]).targets  # they load as written
