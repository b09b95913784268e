"""Probe 9's shapes as a user sees them: what the model, a stored row or Slack gets from a redacted log line."""

from __future__ import annotations

from bot.core.redact import Redactor, StreamRedactor
from tests.secrets_kit import GENERATORS


def _secret(kind: str = "token") -> str:
    return GENERATORS[kind]()[1]


def test_a_coloured_value_is_hidden_and_the_line_keeps_its_colours() -> None:
    token = _secret()
    out = Redactor().redact_text(f"\x1b[32mAPI_TOKEN\x1b[0m=\x1b[1m{token}\x1b[0m")
    assert token not in out
    assert out == "\x1b[32mAPI_TOKEN\x1b[0m=\x1b[1m[REDACTED:token]\x1b[0m"


def test_json_printed_inside_a_string_is_read_with_its_quotes_unescaped() -> None:
    password = _secret("password")
    out = Redactor().redact_text('error: body={\\"user\\":\\"ci\\",\\"password\\":\\"' + password + '\\"}')
    assert password not in out
    assert out == 'error: body={\\"user\\":\\"ci\\",\\"password\\":\\"[REDACTED:password]\\"}'


def test_an_html_report_s_escaped_pair_is_hidden() -> None:
    token = _secret()
    out = Redactor().redact_text(f"<failure>config: {{&quot;api_token&quot;: &quot;{token}&quot;}}</failure>")
    assert token not in out and "[REDACTED:" in out


def test_azure_pipelines_secret_variable_is_hidden_where_it_is_set() -> None:
    token = _secret()
    out = Redactor().redact_text(f"##vso[task.setvariable variable=deployToken;issecret=true]{token}")
    assert out == "##vso[task.setvariable variable=deployToken;issecret=true][REDACTED:secret]"


def test_a_json_value_on_the_line_below_its_name_is_hidden_when_streamed() -> None:
    password = _secret("password")
    text = '{\n  "user": "ci",\n  "password":\n    "' + password + '"\n}\n'
    stream = StreamRedactor(Redactor())
    out = "".join(stream.feed(text[i : i + 7]) for i in range(0, len(text), 7)) + stream.flush()
    assert password not in out
    assert '    "[REDACTED:password]"' in out.splitlines()


def test_go_mysql_dsn_in_a_panic_loses_its_password_not_its_host() -> None:
    password = _secret("password")
    out = Redactor().redact_text(f'panic: dial tcp: i/o timeout (dsn="app:{password}@tcp(db:3306)/app")')
    assert out == 'panic: dial tcp: i/o timeout (dsn="app:[REDACTED:password]@tcp(db:3306)/app")'


def test_a_timing_after_pwd_is_not_taken_for_a_password() -> None:
    for line in (
        "[ RUN      ] :cd getcwd(-1, -1) works with tab-local pwd: 0.68 ms OK",
        "[ RUN      ] :cd getcwd(-1, -1) works with tab-local pwd: \x1b[2m0.68 ms\x1b[0m \x1b[32mOK\x1b[0m",
    ):
        assert Redactor().redact_text(line) == line
