"""Secrets in every shape a CI log prints them, and their base64, URL-encoded and hex re-prints: none survives."""

from __future__ import annotations

import pytest

from bot.core.redact import Redactor, StreamRedactor
from bot.core.redact_payload import redact_payload
from tests.secrets_kit import GENERATORS, encoded, planted_shapes, survivors

PLANTED = planted_shapes()
WHOLE_TEXT_ONLY = {"seven-zip", "net-use"}


@pytest.mark.parametrize("shape,secret,text", PLANTED, ids=[f"{s}:{t[:40]}" for s, _, t in PLANTED])
def test_every_planted_shape_is_redacted(shape: str, secret: str, text: str) -> None:
    out = Redactor().redact_text(text)
    assert survivors(out, [secret]) == [], f"{shape}: {out!r}"
    assert "[REDACTED:" in out


def reprint_log(secret: str, clear_line: str) -> str:
    forms = encoded(secret)
    return "\n".join(
        [
            "$ ./ci/setup.sh",
            clear_line,
            "$ echo $DEPLOY_SECRET | base64",
            forms["base64"],
            f"+ base64 <<< deploy-secret: {forms['base64-bare']}",
            f'$ curl -fsS "https://hooks.example.com/build?job=42&v={forms["url"]}"',
            '$ printf %s "$DEPLOY_SECRET" | hexdump -ve \'1/1 "%.2x"\'',
            forms["hex"],
            f"ERROR: deploy refused the credentials {secret}",
            "ERROR: Job failed: exit code 1",
        ]
    )


def test_the_planted_corpus_as_one_log_with_every_reprint_leaves_nothing() -> None:
    """The headline figure: every planted secret, and every encoded re-print of it later in the same log."""
    secrets, left = [], []
    # Logs of 40 rows: a redactor remembers at most 64 secrets in one log (redact_forms.MAX_KNOWN). The shapes with
    # no pre-filter word are found in whole texts and streams only (redact_anchorless): not by redact_line alone.
    lined = [row for row in PLANTED if row[0] not in WHOLE_TEXT_ONLY]
    for start in range(0, len(lined), 40):
        rows = lined[start : start + 40]
        log = "\n".join(reprint_log(secret, text) for _, secret, text in rows)
        redactor = Redactor()
        out = "\n".join(redactor.redact_line(line) for line in log.split("\n"))
        left += survivors(out, [secret for _, secret, _ in rows])
        secrets += [secret for _, secret, _ in rows]
    shapes = sorted({shape for shape, _, _ in PLANTED})
    print(
        f"\nplanted: {len(secrets)} secrets in {len(shapes)} shapes, each re-printed in 4 encoded forms and once bare;"
        f" survived: {len(left)}"
    )
    assert left == []


@pytest.mark.parametrize("chunk", [1, 13, 4096])
def test_streaming_in_chunks_finds_the_same_reprints(chunk: int) -> None:
    _, secret = GENERATORS["aws"]()
    log = reprint_log(secret, f"AWS_SECRET_ACCESS_KEY={secret}") + "\n"
    stream = StreamRedactor(Redactor())
    out = "".join(stream.feed(log[i : i + chunk]) for i in range(0, len(log), chunk)) + stream.flush()
    assert out == Redactor().redact_text(log)
    assert survivors(out, [secret]) == []


@pytest.mark.parametrize("chunk", [1, 13, 4096])
def test_every_planted_shape_streamed_in_chunks_comes_out_as_from_the_whole_text(chunk: int) -> None:
    """Multi-line shapes (a YAML block under `password: |`, `- name:` then `value:`) carry state across chunks."""
    for start in range(0, len(PLANTED), 40):
        rows = PLANTED[start : start + 40]
        log = "\n".join(text for _, _, text in rows) + "\n"
        stream = StreamRedactor(Redactor())
        out = "".join(stream.feed(log[i : i + chunk]) for i in range(0, len(log), chunk)) + stream.flush()
        assert out == Redactor().redact_text(log)
        assert survivors(out, [secret for _, secret, _ in rows]) == []


def test_the_issue_examples_a_key_id_with_its_secret_and_a_base64_reprint() -> None:
    key_id, secret = GENERATORS["aws"]()
    log = [
        f"$ git clone https://{key_id}:{secret}@git-codecommit.eu-west-1.amazonaws.com/v1/repos/app",
        "$ echo $AWS_SECRET_ACCESS_KEY | base64",
        encoded(secret)["base64"],
    ]
    redactor = Redactor()
    out = [redactor.redact_line(line) for line in log]
    assert out[0] == (
        "$ git clone https://[REDACTED:aws-access-key]:[REDACTED:aws-secret-key]"
        "@git-codecommit.eu-west-1.amazonaws.com/v1/repos/app"
    )
    assert out[2] == "[REDACTED:aws-secret-key]"


def test_a_reprint_before_the_secret_is_recognised_is_removed_by_the_sweep() -> None:
    _, secret = GENERATORS["token"]()
    log = ["$ cat .npmrc | base64", encoded(secret)["base64"], f"NPM_TOKEN={secret}"]
    redactor = Redactor()
    out = [redactor.redact_line(line) for line in log]
    assert out[1] == log[1], "nothing told the first line was a secret when it was read"
    swept = [redactor.redact_known(line) for line in out]
    assert survivors("\n".join(swept), [secret]) == []
    assert swept[1] == "[REDACTED:token]"


def test_reset_forgets_the_secrets_of_the_previous_log() -> None:
    redactor = Redactor()
    _, secret = GENERATORS["token"]()
    redactor.redact_line(f"API_TOKEN={secret}")
    assert redactor.redact_line(f"echo {secret}") == "echo [REDACTED:token]"
    redactor.reset()
    assert redactor.known_secrets == 0
    assert redactor.redact_line(f"echo {secret}") == f"echo {secret}"


def test_short_values_are_not_looked_for_elsewhere() -> None:
    redactor = Redactor()
    assert redactor.redact_line("password=abc12") == "password=[REDACTED:password]"
    assert redactor.redact_line("build abc12 done") == "build abc12 done"


def test_webhook_payload_free_text_is_redacted_and_its_shape_kept() -> None:
    key_id, aws = GENERATORS["aws"]()
    _, token = GENERATORS["token"]()
    payload = {
        "object_kind": "pipeline",
        "object_attributes": {"id": 9001, "ref": f"fix/rotate-{token}", "sha": "4a7b2c9d" * 5, "status": "failed"},
        "merge_request": {
            "iid": 17,
            "title": f"Rotate keys ({encoded(aws)['base64']})",
            "url": "https://gitlab.example.com/acme/api/-/merge_requests/17",
        },
        "commit": {
            "id": "4a7b2c9d" * 5,
            "message": f"ci: use new key\n\nAWS_SECRET_ACCESS_KEY={aws}\nexport DEPLOY_TOKEN={token}\n",
            "url": "https://gitlab.example.com/acme/api/-/commit/" + "4a7b2c9d" * 5,
        },
        "builds": [{"id": 1, "name": "deploy", "stage": "deploy"}],
    }
    redactor = Redactor()
    assert redactor.might_change(payload["commit"]["message"])
    out = redact_payload(payload, redactor.redact_text, redactor.changeable)
    assert survivors(repr(out), [aws, token]) == []
    assert out == redact_payload(payload, Redactor().redact_text), "the pre-check changes nothing that matters"
    assert out["object_attributes"] == {**payload["object_attributes"], "ref": "fix/rotate-[REDACTED:token]"}
    assert out["merge_request"]["title"] == "Rotate keys ([REDACTED:aws-secret-key])"
    assert out["merge_request"]["url"] == payload["merge_request"]["url"]
    assert out["commit"]["id"] == payload["commit"]["id"] and out["commit"]["url"] == payload["commit"]["url"]
    assert out["builds"] == payload["builds"]
    assert payload["commit"]["message"].count(aws) == 1, "the input is left alone"


def test_a_delivery_with_nothing_to_redact_is_kept_as_it_is_without_a_walk() -> None:
    payload = {
        "object_kind": "pipeline",
        "object_attributes": {"id": 9001, "ref": "main", "status": "failed", "sha": "4a7b2c9d" * 5},
        "commit": {"message": "Fix the parser for amounts with a thousands separator\n"},
        "builds": [{"id": 1, "name": "test", "stage": "test"}],
    }
    calls: list[str] = []

    def redact(text: str) -> str:
        calls.append(text)
        return text

    redactor = Redactor()
    assert redact_payload(payload, redact, redactor.changeable) is payload and calls == []
    assert redact_payload(payload, redact) == payload and calls, "without the pre-check every free text is walked"
