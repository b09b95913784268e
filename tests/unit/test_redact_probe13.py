"""The eleventh probe's shapes (redact13) that the planted corpus cannot hold, and their near misses left as printed."""

from __future__ import annotations

import random

import pytest

from bot.core.redact import Redactor
from tests.secrets_kit import GENERATORS, rand
from tests.secrets_kit import streamed as _streamed

LOWER_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789"
_rng = random.Random(13)


def _bootstrap_part(n: int) -> str:
    """kubeadm's token characters, with a letter and a digit (as generated ones have)."""
    return "".join(_rng.choice(LOWER_DIGITS) for _ in range(n - 2)) + "a7"


def _secret(kind: str = "token") -> str:
    return GENERATORS[kind]()[1]


def _both(text: str) -> list[str]:
    return [Redactor().redact_text(text), _streamed(text)]


def test_a_kubeadm_bootstrap_token_s_secret_half_is_hidden() -> None:
    token_id, secret = _bootstrap_part(6), _bootstrap_part(16)
    for text in (
        f"$ kubeadm join 10.0.0.1:6443 --token {token_id}.{secret} --discovery-token-ca-cert-hash sha256:0f1e",
        f"+ kubeadm token create --print-join-command\nkubeadm join 10.0.0.1:6443 --token {token_id}.{secret}",
    ):
        for out in _both(text):
            assert secret not in out and "[REDACTED:token]" in out
    for line in (
        "kubeadm version: v1.30.2",
        "[kubeadm] config.yaml: apiVersion kubeadm.k8s.io.v1beta3",
        "[bootstrap-token] Using token: [REDACTED:token]",
        "[kubeadm] token ttl: 24h0m0s",
    ):
        assert Redactor().redact_text(line) == line


def test_the_token_kubeadm_prints_under_token_create_is_hidden() -> None:
    token = f"{_bootstrap_part(6)}.{_bootstrap_part(16)}"
    for command in ("$ kubeadm token create --ttl 2h", "+ kubeadm token generate"):
        for out in _both(f"{command}\n{token}\n$ echo done"):
            assert token not in out and out.endswith("$ echo done")


@pytest.mark.parametrize(
    "template",
    [
        'API_TOKEN="$(echo {s})"',
        'API_TOKEN="`echo {s}`"',
        "SECRET=$(echo -n {s})",
        "API_TOKEN=`echo -n {s}`",
        "SECRET=$( echo {s} )",
    ],
)
def test_a_literal_echoed_into_a_secret_s_variable_is_hidden_in_its_usual_spellings(template: str) -> None:
    secret = _secret("password")
    for out in _both("$ export " + template.format(s=secret)):
        assert secret not in out and "[REDACTED:" in out


def test_userpass_with_a_reference_for_its_password_is_left_as_written() -> None:
    text = 'userpass=ci:$CI_PASSWORD\n$ docker login -u ci --password-stdin <<< "$CI_PASSWORD"'
    for out in _both(text):
        assert out == text
    secret = _secret("password")
    for out in _both(f"userpass=ci:{secret}"):
        assert secret not in out and out.startswith("userpass=ci:[REDACTED:")


def test_github_s_token_as_user_is_hidden_and_its_fixed_password_kept() -> None:
    token = _secret()
    out = Redactor().redact_text(f"$ git clone https://{token}:x-oauth-basic@github.com/acme/app.git")
    assert token not in out and "[REDACTED:token]:x-oauth-basic@github.com" in out
    line = "$ git clone https://ci-bot:x-oauth-basic@github.com/acme/app.git"
    assert Redactor().redact_text(line) == line


def test_a_terraform_variable_s_default_is_hidden_only_under_a_secret_s_name() -> None:
    secret = _secret("password")
    text = f'variable "db_password" {{\n  type      = string\n  sensitive = true\n  default   = "{secret}"\n}}'
    for out in _both(text):
        assert secret not in out and 'default   = "[REDACTED:password]"' in out
    for text in (
        'variable "region" {\n  default = "eu-west-1"\n}',
        'variable "db_password" {\n  type = string\n}\nvariable "replicas" {\n  default = "3"\n}',
        # the usual layout: a secret variable without a default, the next one with an ordinary default; the wait
        # for the secret's value ends at its closing brace, so "postgres" is not learnt and hidden everywhere
        'variable "db_password" {\n  type = string\n}\nvariable "engine" {\n  default = "postgres"\n}\n'
        "services:\n  - postgres:15\n$ psql -h postgres -U postgres",
        'variable "db_password" {\n  sensitive = true\n}\n- name: ENGINE\n  value: postgres',
    ):
        for out in _both(text):
            assert out == text


def test_a_key_s_body_behind_log_timestamps_is_hidden() -> None:
    body = rand(64)
    text = (
        f"2024-05-01T10:22:13.123456Z 00O -----BEGIN PRIVATE KEY-----\n2024-05-01T10:22:13.123456Z 00O {body}\n"
        "2024-05-01T10:22:13.123456Z 00O -----END PRIVATE KEY-----\n2024-05-01T10:22:14.000001Z 00O Job succeeded"
    )
    for out in _both(text):
        assert body not in out and out.endswith("Job succeeded")


@pytest.mark.parametrize(
    "line",
    [
        "password: required",
        "  password: optional",
        "self.password = password",
        "def authenticate(username: str, password: str) -> bool:",
        "    api_token: SecretStr",
        "CFLAGS ::= -O2 -Wall",
        "PREFIX ?= /usr/local",
        "DB_PASSWORD ?= $(shell cat /run/secrets/db)",
        "secret=`echo $DEPLOY_SECRET`",
        "API_TOKEN=$(echo $CI_JOB_TOKEN)",
        "password[0]=$PASSWORD",
        "tokens[0] = 12",
        "POETRY_PYPI_TOKEN_PYPI=$PYPI_TOKEN",
        "GITHUB_PAT <- Sys.getenv('GITHUB_PAT')",
        "Success! Enabled userpass auth method at: userpass/",
    ],
)
def test_near_misses_of_the_new_shapes_stay_as_printed(line: str) -> None:
    assert Redactor().redact_text(line) == line


def test_a_quoted_word_is_still_a_password() -> None:
    assert "required" not in Redactor().redact_text('password: "required"')
