"""Stop 24's cheaper guards before rules' patterns: a rule is skipped only on lines it could not match."""

from __future__ import annotations

import pytest

from bot.core.redact import Redactor
from bot.core.redact_tokens import rule
from tests.secrets_kit import GENERATORS


def _secret(kind: str = "token") -> str:
    return GENERATORS[kind]()[1]


def test_a_rule_ignoring_case_can_ask_for_a_lower_case_word_first() -> None:
    guarded = rule("secret", r"(?i)\bvalue=(\w+)", ("value",), group=1, needs_lower=("value=",))
    assert guarded.needs_lower == ("value=",)


@pytest.mark.parametrize(
    "template",
    [
        "AUTHORIZATION: Bearer {s}",  # the guard lowers the line: any case of the header's name
        "Authorization: Bearer {s}",
        "X-API-KEY: {s}",
        "x-Vault-Token: {s}",
        '<add key="ApiKey" VALUE="{s}"/>',
        '{{"name": "DB_PASSWORD", "Value": "{s}"}}',
    ],
)
def test_a_header_or_pair_in_any_case_is_still_hidden(template: str) -> None:
    secret = _secret()
    out = Redactor().redact_text(template.format(s=secret))
    assert secret not in out and "[REDACTED:" in out


@pytest.mark.parametrize(
    "template",
    [
        "+ sqlplus -s scott/{s}@db",
        "+ expdp system/{s}@orcl schemas=hr",
        "+ rman target sys/{s}@prod",
        "+ mysql -uroot -p{s} -e 'select 1'",
        "+ sqlcmd -S db -U sa -P {s}",
        "dial: ci:{s}@tcp(db:3306)/app",
        "::set-output name=db_password::{s}",
        "+ gh secret set DEPLOY_TOKEN -b{s}",
        "https://ci.example.com/callback?code={s}",
    ],
)
def test_a_tool_s_secret_is_still_hidden_behind_its_printed_word(template: str) -> None:
    secret = _secret("password")
    out = Redactor().redact_text(template.format(s=secret))
    assert secret not in out and "[REDACTED:" in out
