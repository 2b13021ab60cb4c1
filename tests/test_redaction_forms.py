"""``unified_auth.redact`` masks every form ``assert_no_leaks`` looks for: one shared list.

And the places that quote what others wrote use it: the Liana plugin's OAuth error echoes,
its token_type complaint, and config errors about host patterns.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

import unified_auth
from unified_auth import RetryPolicy, Secret, redact
from unified_auth.core.redaction import MASK, secret_forms
from unified_auth.errors import CredentialsRejected, TokenEndpointError
from unified_auth.testing import ManualClock, assert_no_leaks

SECRETS = ["canary-9f8e7d6c5b4a", "p@ss w/rd+&=?\"\\ü", "ab/cd+ef==gh", "x" * 40]


def disguises(secret: str) -> list[str]:
    basic = base64.b64encode(f"client:{secret}".encode()).decode()
    basic_form = base64.b64encode(f"client:{quote_plus(secret)}".encode()).decode()
    return [secret, quote(secret), quote(secret, safe=""), quote_plus(secret),
            json.dumps(secret)[1:-1], f"Basic {basic}", f"Basic {basic_form}",
            base64.b64encode(secret.encode()).decode(),
            base64.urlsafe_b64encode(secret.encode()).decode()]


@pytest.mark.parametrize("secret", SECRETS)
def test_redact_masks_every_disguise_the_leak_checker_knows(secret: str) -> None:
    for form in disguises(secret):
        text = f"the server said: {form} (sic)"
        redacted = redact(text, [secret])
        assert_no_leaks(redacted, [secret])
        assert redacted.startswith("the server said: ") and MASK in redacted


@settings(max_examples=200, deadline=None)
# A secret holding the mask's character can be found inside the mask itself ("******" in
# "********", or "***abc" across the mask and the text after it): no redaction can help that.
@given(secret=st.text(min_size=6, max_size=30).filter(lambda s: MASK[0] not in s),
       before=st.text(max_size=20), after=st.text(max_size=20), which=st.integers(0, 8))
def test_redacted_text_never_fails_the_leak_checker(secret: str, before: str, after: str,
                                                   which: int) -> None:
    redacted = redact(before + disguises(secret)[which] + after, [Secret(secret)])
    assert_no_leaks(redacted, [secret])


def test_redact_leaves_other_text_alone_and_skips_missing_secrets() -> None:
    assert redact("nothing to see", ["canary-9f8e7d6c5b4a", None, ""]) == "nothing to see"
    assert redact("a canary-9f8e7d6c5b4a b", ["canary-9f8e7d6c5b4a"]) == f"a {MASK} b"


def test_redact_is_public_for_plugins() -> None:
    assert "redact" in unified_auth.__all__
    assert unified_auth.redact is redact


def test_the_leak_checker_and_redact_share_one_list_of_forms() -> None:
    import unified_auth.testing.leaks as leaks

    names = {form.name for form in secret_forms('p@ss w/rd+&=?"')}
    assert {"plain text", "URL-encoded", "JSON-escaped", "base64", "urlsafe base64"} <= names
    assert leaks.secret_forms is secret_forms


# -- the Liana plugin quotes servers through redact -------------------------------------

CANARY = "p@ss w/rd+canary"
TOKEN_URL = "https://tokens.liana.test/token"


def liana_hub(monkeypatch: pytest.MonkeyPatch, **options: Any) -> unified_auth.UnifiedAuth:
    monkeypatch.setenv("LIANA_TEST_SECRET", CANARY)
    return unified_auth.load({"targets": {"mailer": {
        "provider": "liana", "hosts": ["rest.lianamailer.test"], "client_id": "client",
        "client_secret": {"env": "LIANA_TEST_SECRET"}, "token_url": TOKEN_URL, **options}}},
        clock=ManualClock(1_800_000_000.0), retry=RetryPolicy(sleep=lambda s: None))


@pytest.mark.parametrize("echo", disguises(CANARY))
@pytest.mark.parametrize("client_auth", ["post", "basic"])
def test_an_oauth_error_description_echoing_the_secret_is_masked_in_every_form(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, echo: str,
        client_auth: str) -> None:
    hub = liana_hub(monkeypatch, client_auth=client_auth)
    with responses.RequestsMock() as mock, caplog.at_level(logging.DEBUG):
        mock.post(TOKEN_URL, status=400, json={
            "error": "invalid_request", "error_description": f"you sent {echo}!"})
        with pytest.raises(CredentialsRejected) as caught:
            hub.credentials("mailer")
    assert f"invalid_request: you sent {MASK}" in str(caught.value) or \
        f"invalid_request: you sent Basic {MASK}" in str(caught.value)
    assert_no_leaks([str(caught.value), repr(caught.value), caplog.text], [CANARY])


@pytest.mark.parametrize("token_type", ["tok-canary-1a2b3c4d5e", "Bearer tok-canary-1a2b3c4d5e"])
def test_a_token_type_is_described_never_echoed(monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture,
                                                token_type: str) -> None:
    hub = liana_hub(monkeypatch)
    with responses.RequestsMock() as mock, caplog.at_level(logging.DEBUG):
        mock.post(TOKEN_URL, json={"access_token": "tok-canary-1a2b3c4d5e",
                                   "token_type": token_type, "expires_in": 900})
        with pytest.raises(TokenEndpointError, match="token_type that is not Bearer") as caught:
            hub.credentials("mailer")
    assert_no_leaks([str(caught.value), caplog.text], ["tok-canary-1a2b3c4d5e"])


@pytest.mark.parametrize("word", ["tok-prop-canary-42", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9",
                                  "AKIAIOSFODNN7EXAMPLE", "ghp_16C7e42F292c6912E7710c838347Ae"])
def test_opaque_masks_words_shaped_like_credentials(word: str) -> None:
    assert redact(f"the token {word} was revoked", [], opaque=True) == \
        f"the token {MASK} was revoked"
    assert redact(word, [], opaque=False) == word  # only on request: it is a heuristic


@pytest.mark.parametrize("prose", [
    "The client credentials have expired; create new ones in LianaAccount.",
    "see https://docs.example.com/oauth/errors#invalid_scope for details",
    "scope newsletters:read is not allowed for client 1234",
    "internationalisation-is-a-long-word-without-digits"])
def test_opaque_leaves_prose_urls_and_short_identifiers_alone(prose: str) -> None:
    assert redact(prose, [], opaque=True) == prose


@pytest.mark.parametrize("description", ["tok-prop-canary-42", "Bearer tok-prop-canary-42"])
def test_a_token_the_server_put_in_an_error_description_is_not_quoted(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        description: str) -> None:
    # Found by hypothesis (test_token_answers_property): a 400 whose description is a bare
    # token. No list of known secrets has it: the shape gives it away.
    hub = liana_hub(monkeypatch)
    with responses.RequestsMock() as mock, caplog.at_level(logging.DEBUG):
        mock.post(TOKEN_URL, status=400, json={"error": "invalid_scope",
                                               "error_description": description})
        with pytest.raises(CredentialsRejected) as caught:
            hub.credentials("mailer")
    assert "invalid_scope" in str(caught.value)
    assert_no_leaks([str(caught.value), repr(caught.value), caplog.text],
                    ["tok-prop-canary-42"])
