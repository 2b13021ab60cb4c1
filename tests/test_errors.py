"""The error hierarchy: where each error says it happened, and what it carries."""

from __future__ import annotations

import pytest
import requests

import unified_auth
from unified_auth.errors import (
    AccessDenied,
    AuthFailed,
    ConfigError,
    CredentialsRejected,
    SecretError,
    TokenEndpointError,
    UnifiedAuthError,
)


@pytest.mark.parametrize("cls", [ConfigError, SecretError])
def test_config_and_secret_errors_start_with_file_target_and_key(cls: type[ConfigError]) -> None:
    error = cls("expected a string", source="ua.toml", target="mailer", key="client_id")
    assert str(error) == error.message == "ua.toml: targets.mailer.client_id: expected a string"
    assert (error.source, error.target, error.key) == ("ua.toml", "mailer", "client_id")
    assert str(cls("no file")) == "no file"


def test_a_config_error_is_a_value_error_and_a_secret_error_a_request_exception() -> None:
    assert isinstance(ConfigError("x"), ValueError)
    assert not isinstance(ConfigError("x"), requests.RequestException)
    assert isinstance(SecretError("x"), requests.RequestException)


@pytest.mark.parametrize("cls", [CredentialsRejected, TokenEndpointError, AuthFailed,
                                 AccessDenied])
def test_target_errors_carry_the_target_response_and_request(
        cls: type[CredentialsRejected]) -> None:
    response, request = requests.Response(), requests.Request("GET", "https://a.example/")
    error = cls("refused", target="mailer", response=response, request=request)
    assert (error.target, error.response, error.request) == ("mailer", response, request)
    assert str(error) == "refused"
    assert isinstance(error, UnifiedAuthError) and isinstance(error, requests.RequestException)


def test_http_answers_are_http_errors() -> None:
    assert isinstance(AuthFailed("x"), requests.HTTPError)
    assert isinstance(AccessDenied("x"), requests.HTTPError)
    assert not isinstance(TokenEndpointError("x"), requests.HTTPError)


def test_an_unknown_target_name_is_quoted_shortened_however_long() -> None:
    hub = unified_auth.load({"targets": {}})
    with pytest.raises(unified_auth.errors.ConfigError) as failure:
        hub.target("x" * 10_000)
    assert len(str(failure.value)) < 300 and "10000 characters" in str(failure.value)
