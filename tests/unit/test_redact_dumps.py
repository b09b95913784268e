"""The eighth probe's shapes a planted row cannot hold (a printed `\\r\\n`, a hex digest) and its near misses."""

from __future__ import annotations

import random

import pytest

from bot.core.redact import Redactor
from tests.secrets_kit import GENERATORS, survivors


def test_a_header_after_a_printed_crlf_is_redacted() -> None:
    """Python's http.client at debuglevel 1 prints the request as a bytes repr, headers after `\\r\\n` escapes."""
    _, token = GENERATORS["token"]()
    line = f"send: b'GET /api/v4/projects HTTP/1.1\\r\\nHost: gitlab.example.com\\r\\nAuthorization: Bearer {token}\\r\\n\\r\\n'"
    out = Redactor().redact_line(line)
    assert survivors(out, [token]) == []
    assert out.endswith("Authorization: Bearer [REDACTED:authorization]\\r\\n\\r\\n'")  # the escapes are kept


def test_digest_authentication_hides_its_response_and_keeps_its_parameters() -> None:
    response = "".join(random.Random(8).choice("0123456789abcdef") for _ in range(32))  # an MD5 in hex
    line = f'> Authorization: Digest username="ci", realm="api", nonce="dcd98b71", uri="/", response="{response}"'
    out = Redactor().redact_line(line)
    assert response not in out
    assert 'username="ci", realm="api"' in out


@pytest.mark.parametrize("word", ["via", "for"])
def test_a_word_of_prose_after_a_password_flag_is_no_password(word: str) -> None:
    line = f"WARNING! Using --password {word} the CLI is insecure. Use --password-stdin."
    assert Redactor().redact_line(line) == line


def test_a_password_after_the_flag_is_still_one() -> None:
    _, password = GENERATORS["password"]()
    out = Redactor().redact_line(f"$ docker login -u ci --password {password} registry.example.com")
    assert survivors(out, [password]) == []


def test_an_object_s_value_is_looked_for_only_a_few_lines_below_its_name() -> None:
    """`"db_password": {` then three lines: the fourth line's `"value":` is another object's."""
    _, password = GENERATORS["password"]()
    log = "\n".join(
        ['  "db_password": {', '    "a": 1,', '    "b": 2,', '    "c": 3,', f'    "value": "{password}"', "  }"]
    )
    assert Redactor().redact_text(log) == log


def test_the_value_line_ends_the_wait_for_the_value() -> None:
    _, password = GENERATORS["password"]()
    log = "\n".join(['  "db_password": {', '    "value": "[MASKED]",', f'    "value": "{password}"'])
    assert Redactor().redact_text(log) == log
