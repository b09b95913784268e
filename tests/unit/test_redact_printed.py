"""A secret printed alone on the line after the command that prints it, and secrets stated in prose."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.redact import Redactor, StreamRedactor
from bot.core.redact_printed import printed_secret_kind
from tests.secrets_kit import GENERATORS, encoded, survivors

SECRET = "Hn3Kd8Wq1Vb6Tz4Rm9Pc2Xs7Lf5Gj0Ya"


def streamed(text: str, size: int) -> str:
    stream = StreamRedactor(Redactor())
    return "".join(stream.feed(text[i : i + size]) for i in range(0, len(text), size)) + stream.flush()


@pytest.mark.parametrize(
    "command",
    [
        "$ terraform output -raw db_password",
        "\x1b[32;1m$ gcloud auth print-access-token\x1b[0;m",
        "+ aws ecr get-login-password --region eu-west-1",
        "$ vault kv get -field=password secret/ci/db",
        "$ kubectl get secret db -o jsonpath='{.data.password}' | base64 -d",
        "$ openssl rand -hex 32",
        "PS C:\\build> gh auth token",
    ],
)
def test_the_value_on_the_next_line_is_redacted_line_by_line_whole_and_streamed(command: str) -> None:
    log = f"{command}\n{SECRET}\n$ echo done\n"
    redactor = Redactor()
    by_line = "\n".join(redactor.redact_line(line) for line in log.split("\n"))
    whole = Redactor().redact_text(log)
    assert by_line == whole
    assert SECRET not in whole and "[REDACTED:" in whole.split("\n")[1]
    for size in (1, 5, len(command) + 1, 4096):
        assert streamed(log, size) == whole, size


def test_only_the_next_line_and_only_a_lone_word_is_taken() -> None:
    log = "\n".join(
        [
            "$ terraform output -raw db_password",
            "╷",  # Terraform's error box: too short, and the state is spent on it
            SECRET,
            "$ gcloud auth print-access-token",
            "ERROR: (gcloud.auth.print-access-token) You do not currently have an active account selected.",
            "$ echo $DB_PASSWORD",
            "[MASKED]",
            "$ cat /run/secrets/db_password",
            "section_end:1733561234:step_script",
        ]
    )
    assert Redactor().redact_text(log) == log


@pytest.mark.parametrize(
    "command",
    [
        "$ terraform output -raw vpc_id",  # a name that holds no secret
        "$ terraform output -raw db_password > db_password.txt",  # written to a file
        "$ gcloud auth print-access-token | docker login -u oauth2accesstoken --password-stdin https://gcr.io",
        "$ export TOKEN=$(gh auth token)",  # captured, not printed
        "terraform output -raw db_password",  # not a command echo: prose or a file's text
    ],
)
def test_a_command_whose_output_goes_elsewhere_sets_nothing(command: str) -> None:
    assert printed_secret_kind(command) == ""
    log = f"{command}\n{SECRET}"
    assert Redactor().redact_text(log) == log


def test_what_was_printed_is_learnt_and_found_again_in_its_encoded_forms() -> None:
    _, secret = GENERATORS["password"]()
    forms = encoded(secret)
    log = ["$ terraform output -raw db_password", secret, "$ echo $PW | base64", forms["base64"], f"pw={forms['url']}"]
    redactor = Redactor()
    out = [redactor.redact_line(line) for line in log]
    assert survivors("\n".join(out), [secret]) == []


def test_a_weak_name_takes_only_a_generated_value() -> None:
    assert (
        Redactor().redact_text("$ echo $CACHE_KEY\ncache-v1-linux-8f14e45f")
        == "$ echo $CACHE_KEY\ncache-v1-linux-8f14e45f"
    )
    assert SECRET not in Redactor().redact_text(f"$ echo $KEY\n{SECRET}")


def test_the_kind_follows_the_name_or_the_command() -> None:
    assert printed_secret_kind("$ terraform output -raw db_password") == "password"
    assert printed_secret_kind("$ heroku config:get STRIPE_API_KEY") == "api-key"
    assert printed_secret_kind("$ gcloud auth print-access-token") == "secret"


@pytest.mark.parametrize(
    "line",
    [
        "Your password is {s}",
        "Generated password for user admin: {s}",
        "A temporary password is generated for root@localhost: {s}",
        "The generated password for the elastic built-in superuser is : {s}",
        "Password for user postgres: {s}",
        "The API key is: {s}",
        "Token created successfully: {s}",
        "INFO  Created user ci with password {s}",
    ],
)
def test_a_secret_stated_in_prose_is_redacted(line: str) -> None:
    out = Redactor().redact_text(line.format(s=SECRET))
    assert SECRET not in out and "[REDACTED:" in out


@pytest.mark.parametrize(
    "line",
    [
        "The password is required",
        "Your password is too short",
        "Your password is set to expire in 30 days",
        "The API key is invalid or expired",
        "Token created successfully: id 42",
        "Generated password for user admin: [MASKED]",
        "token = None",
    ],
)
def test_prose_about_a_secret_without_one_is_left_alone(line: str) -> None:
    assert Redactor().redact_text(line) == line


_LINES = st.sampled_from(
    [
        "$ terraform output -raw db_password",
        "$ gcloud auth print-access-token",
        "$ echo $DB_PASSWORD",
        "+ openssl rand -hex 32",
        "$ terraform output -raw db_password > pw.txt",
        SECRET,
        "Your password is " + SECRET,
        "[MASKED]",
        "Login Succeeded",
        "Running tests...",
        "",
        "  password: |",
        "    " + SECRET,
        "- name: DB_PASSWORD",
        "  value: " + SECRET,
    ]
)


@given(st.lists(_LINES, max_size=14), st.integers(min_value=1, max_value=40))
@settings(max_examples=200, deadline=None)
def test_whole_text_line_by_line_and_streamed_redaction_agree(lines: list[str], size: int) -> None:
    """The next-line state is carried the same way by redact_text, redact_line and a stream cut anywhere."""
    log = "\n".join(lines) + "\n"
    whole = Redactor().redact_text(log)
    redactor = Redactor()
    assert "\n".join(redactor.redact_line(line) for line in log.split("\n")) == whole
    assert streamed(log, size) == whole
    out = whole.split("\n")
    for i, line in enumerate(lines[1:], start=1):
        if line == SECRET and printed_secret_kind(lines[i - 1]):
            assert out[i] != SECRET, (lines[i - 1], out[i])
