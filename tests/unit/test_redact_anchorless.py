"""7-Zip's `-pX` and Windows' `net use` (no pre-filter word): hidden in a text, a stream and a whole-log learner."""

from __future__ import annotations

import pytest

from bot.core.redact import Redactor
from bot.core.redact_learn import LogLearner
from tests.secrets_kit import GENERATORS
from tests.secrets_kit import streamed as _streamed


def _password() -> str:
    return GENERATORS["password"]()[1]


@pytest.mark.parametrize(
    "template",
    [
        "$ 7za a -mhe=on -p{} backup.7z db.sql",
        '"C:\\Program Files\\7-Zip\\7z.exe" x artifacts.7z -p{} -y',
        "7Z A -P{} OUT.7Z",
        "net use \\\\fileserver\\builds {} /user:CORP\\svc-ci",
        "net use \\\\files.corp\\drop /user:CORP\\ci {}",
        "> NET USE Z: \\\\10.0.0.5\\share {} /USER:deploy /persistent:no",
    ],
)
def test_the_password_is_hidden_in_a_text_and_streamed(template: str) -> None:
    secret = _password()
    text = f"Running job\n{template.format(secret)}\ndone\n"
    for out in (Redactor().redact_text(text), _streamed(text), _streamed(text, 65536)):
        assert secret not in out and out.startswith("Running job\n") and out.endswith("\ndone\n")
    assert Redactor().might_change(text)


def test_a_line_the_excerpt_keeps_loses_the_password_the_whole_log_learnt() -> None:
    secret = _password()
    line = f"+ 7z x -y -p{secret} -o/tmp/out secrets.7z"
    learner = LogLearner(Redactor())
    learner.feed(f"step 1 \u2713\n{line}\nERROR: exit 2\n".encode())  # a wide character: the learner reads ASCII
    learner.close()
    assert learner.known_secrets == 1
    assert secret not in learner.redact_known(line)


@pytest.mark.parametrize(
    "line",
    [
        "7z a -p archive.7z dist/",
        "7z x -y -o/tmp/out secrets.7z",
        "p7zip-full is already the newest version (16.02+dfsg-8).",
        "net use \\\\srv\\share /user:ci *",
        "net use \\\\srv\\share /delete /y",
        "NET USE Z: \\\\srv\\share /PERSISTENT:NO",
        "7z a out.7z dist && mysql -u ci -h db",
    ],
)
def test_prompts_and_other_switches_stay(line: str) -> None:
    assert Redactor().redact_text(line) == line
    assert _streamed(line + "\n") == line + "\n"
