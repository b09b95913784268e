"""Probe 10's shapes that the planted corpus cannot hold, and the references beside them that stay as printed."""

from __future__ import annotations

from bot.core.redact import Redactor
from tests.secrets_kit import GENERATORS
from tests.secrets_kit import streamed as _streamed


def _secret(kind: str = "token") -> str:
    return GENERATORS[kind]()[1]


def test_a_putty_key_file_s_private_lines_are_hidden_whole_or_streamed() -> None:
    first, second = _secret(), _secret()
    text = (
        "PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\nComment: ci\nPublic-Lines: 1\nAAAAB3NzaC1yc2EAAAADAQAB\n"
        f"Private-Lines: 2\n{first}\n{second}\nPrivate-MAC: 3c2b1a09\nJob succeeded"
    )
    for out in (Redactor().redact_text(text), _streamed(text)):
        assert first not in out and second not in out
        assert "Private-Lines: 2\n" in out and out.endswith("Private-MAC: 3c2b1a09\nJob succeeded")


def test_where_a_tool_reads_its_password_from_is_no_password() -> None:
    for line in (
        "openssl enc -aes-256-cbc -pass env:ENC_PASS -in a -out a.enc",
        "apksigner sign --ks release.jks --ks-pass env:KS_PASS app.apk",
        "openssl rsa -in key.pem -passin fd:3 -out plain.pem",
    ):
        assert Redactor().redact_text(line) == line


def test_a_key_listing_s_value_three_lines_under_its_name_is_hidden() -> None:
    key = _secret()
    text = f'[\n  {{\n    "keyName": "key1",\n    "permissions": "FULL",\n    "value": "{key}"\n  }}\n]'
    out = Redactor().redact_text(text)
    assert key not in out and '"value": "[REDACTED:secret]"' in out
    assert Redactor().redact_text('"keyName": "key1",\n"value": 42,') == '"keyName": "key1",\n"value": 42,'


def test_ini_s_bare_pass_is_a_password_with_tabs_too_but_not_a_test_s_outcome() -> None:
    password = _secret("password")
    for line in (f"pass = {password}", f"\tpass\t=\t{password}"):
        out = Redactor().redact_text(line)
        assert password not in out and "[REDACTED:password]" in out
    for line in (
        "pass = fail",
        "tests pass = 142",
        "pass = true",
        "Total = 1500, Pass = 1498, Fail = 2",
        "PASS = 100%",
    ):
        assert Redactor().redact_text(line) == line
