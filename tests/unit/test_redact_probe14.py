"""The fourteenth probe's shapes (redact14) that the planted corpus cannot hold, and their near misses left as printed."""

from __future__ import annotations

import pytest

from bot.core.redact import Redactor
from tests.secrets_kit import GENERATORS
from tests.secrets_kit import streamed as _streamed

PREFIXES = [
    "2024-05-01T10:22:13+00:00 ",
    "2024-05-01T10:22:13.123+02:00 ",
    "2024-05-01T10:22:13-0500 ",
    "[2024-05-01 10:22:13] ",
    "[2024-05-01T10:22:13Z] ",
    "10:22:13 ",
    "[10:22:13] ",
    "2024/05/01 10:22:13 ",
    "2024/05/01 10:22:13.123456 ",
    "svc-1  | ",
    "app-worker-1  | ",
    "svc-1  | 2024-05-01T10:22:13+00:00 ",
]


def _secret(kind: str = "token") -> str:
    return GENERATORS[kind]()[1]


def _all(text: str) -> list[str]:
    redactor = Redactor()
    return [Redactor().redact_text(text), _streamed(text), "\n".join(redactor.redact_line(x) for x in text.split("\n"))]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_private_key_s_body_is_hidden_behind_a_log_prefix(prefix: str) -> None:
    body = _secret() + _secret()
    text = "\n".join(
        prefix + part
        for part in ("-----BEGIN RSA PRIVATE KEY-----", "Proc-Type: 4,ENCRYPTED", body, "-----END RSA PRIVATE KEY-----")
    )
    for out in _all(text + "\n$ echo done"):
        assert body not in out and out.endswith("$ echo done")


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_certificate_behind_a_log_prefix_is_left_as_printed(prefix: str) -> None:
    text = "\n".join(
        prefix + part
        for part in (
            "-----BEGIN CERTIFICATE-----",
            "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ",
            "-----END CERTIFICATE-----",
        )
    )
    assert Redactor().redact_text(text) == text


@pytest.mark.parametrize(
    "template",
    [
        'variable "db_password" {\r\n  type    = string\r\n  default = "{s}"\r\n}\r',
        'variable "db_password" { \n  default = "{s}"\n}',
        '2024-05-01T10:22:13.123456Z 00O variable "db_password" {\n2024-05-01T10:22:13.123457Z 00O   default = "{s}"\n'
        "2024-05-01T10:22:13.123458Z 00O }",
        'variable "db_password" { default = "{s}" }',
        'variable "db_password" {\n  default = "{s}" # change me\n}',
        'variable "db_password" {\n  default = "{s}"  // rotate yearly\n}',
        'variable "db_password" {\n  description = "The database password"\n  type        = string\n'
        '  sensitive   = true\n  nullable    = false\n  ephemeral   = false\n  default     = "{s}"\n}',
        'variable "db_password" {\n  type    = string\n  default = <<EOT\n{s}\nEOT\n}',
        'variable "db_password" {\n  default = <<-EOT\n    {s}\n  EOT\n}',
    ],
)
def test_a_terraform_variable_s_default_under_a_secret_s_name_is_hidden(template: str) -> None:
    secret = _secret("password")
    for out in _all(template.replace("{s}", secret)):
        assert secret not in out and "[REDACTED:password]" in out


def test_a_heredoc_default_keeps_its_markers_and_what_follows() -> None:
    secret = _secret("password")
    text = f'variable "db_password" {{\n  default = <<EOT\n{secret}\nEOT\n}}\nvariable "region" {{\n  default = "eu-west-1"\n}}'
    out = Redactor().redact_text(text)
    assert out == text.replace(secret, "[REDACTED:password]")


@pytest.mark.parametrize(
    "text",
    [
        'variable "region" { default = "eu-west-1" }',
        'variable "db_password_length" { default = 24 }',
        'variable "environment" {\n  default = "production" # or staging\n}',
        '2024-05-01T10:22:13Z variable "region" {\n2024-05-01T10:22:13Z   default = "us-east-1"\n2024-05-01T10:22:13Z }',
        # the wait for the named value ends at the object's close, or at the next name
        'variable "db_password" {\n  type = string\n}\nvariable "region" {\n  default = "eu-west-1-ab"\n}',
        'variable "db_password" {\n  type = string\nvariable "cluster_name" {\n  default = "ci-cluster-main"\n}',
        'variable "user_data" {\n  default = <<EOT\n#!/bin/bash\nEOT\n}',
    ],
)
def test_a_terraform_variable_that_holds_no_secret_is_left_as_printed(text: str) -> None:
    for out in _all(text):
        assert out == text


@pytest.mark.parametrize(
    "template",
    [
        "password=({s})",
        "declare -a tokens=(abcdefghijklmn0123 {s})",
        'local -a api_tokens=("{s}")',
        "API_TOKENS=('{s}' 'Zx81kLmN0pQrStUvWx')",
        'DB_PASSWORDS=( "{s}" )',
        "API_TOKEN += {s}",
        "API_TOKEN+={s}",
        "override API_TOKEN += {s}",
        '\tGITHUB_TOKEN += "{s}"',
    ],
)
def test_a_bash_array_and_make_s_append_under_a_secret_s_name_are_hidden(template: str) -> None:
    secret = _secret()
    for out in _all(template.replace("{s}", secret)):
        assert secret not in out and "[REDACTED:" in out


@pytest.mark.parametrize(
    "line",
    [
        "files=(src/main.py src/util.py)",
        "declare -a password_rules=(min_length max_age)",
        "tokens=(IDENT NUMBER STRING)",
        "password_files=(/run/secrets/db_password)",
        "CFLAGS += -O2",
        "SRCS += src/password_hash.c",
        "PASSWORD_FILE += /etc/secrets/db",
        "password += letter",  # code appending to a string: Make's variables are upper-case
        "token += nextChar",
    ],
)
def test_arrays_of_names_and_appends_that_hold_no_secret_are_left_as_printed(line: str) -> None:
    assert Redactor().redact_text(line) == line
