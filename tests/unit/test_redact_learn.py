"""The whole-log learner: a secret printed anywhere in a log's raw chunks is removed, in every form, from kept lines."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.redact import Redactor
from bot.core.redact_learn import LogLearner
from tests.secrets_kit import GENERATORS, encoded, survivors


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def a_log(token: str) -> bytes:
    lines = ["\x1b[0KRunning with gitlab-runner 17.5.0", "$ env | sort", "LANG=C.UTF-8 — déjà vu"]
    lines.append(f"\x1b[32mDEPLOY_TOKEN={token}\x1b[0m")  # coloured: the terminal shows DEPLOY_TOKEN=...
    lines += [f"Step {i}: compiling module_{i}.c ✓" for i in range(500)]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_a_secret_learnt_from_any_line_is_removed_from_a_kept_line_in_every_form():
    _, token = GENERATORS["token"]()
    data = a_log(token)
    kept = f"$ echo $DEPLOY_TOKEN | base64\n{encoded(token)['base64']}\ncurl: token {encoded(token)['hex']} refused"
    # Chunks of 7 bytes cut the coloured line, the secret and the multi-byte characters anywhere.
    for size in (7, 64 * 1024):
        learner = LogLearner(Redactor(), max_bytes=None)
        for chunk in chunked(data, size):
            learner.feed(chunk)
        learner.close()
        assert learner.known_secrets == 1
        clean = learner.redact_known(kept)
        assert survivors(clean, [token]) == [] and "[REDACTED:" in clean, size


def test_the_last_line_without_a_newline_is_read_when_the_learner_is_closed():
    _, token = GENERATORS["token"]()
    learner = LogLearner(Redactor())
    learner.feed(f"ok\nexport API_TOKEN={token}".encode())
    assert learner.known_secrets == 0, "the line may go on in the next chunk"
    learner.close()
    assert survivors(learner.redact_known(encoded(token)["url"]), [token]) == []


def test_reading_stops_after_max_bytes():
    _, token = GENERATORS["token"]()
    data = a_log(token)
    before = data.index(b"DEPLOY_TOKEN")
    learner = LogLearner(Redactor(), max_bytes=before)
    for chunk in chunked(data, 1000):
        learner.feed(chunk)
    learner.close()
    assert learner.known_secrets == 0


def test_a_log_without_secrets_teaches_nothing_and_changes_nothing():
    learner = LogLearner(Redactor())
    learner.feed(b"$ make test\nFAILED tests/test_api.py::test_list - assert 404 == 200\n")
    learner.close()
    assert learner.known_secrets == 0
    assert learner.redact_known("assert 404 == 200") == "assert 404 == 200"


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.floats(min_value=0, max_value=1), max_size=40))
def test_where_the_chunks_are_cut_does_not_change_what_is_learnt(cuts):
    """Chunks cut inside a colour code, a multi-byte character, a CRLF or the secret itself teach the same secrets
    as the whole log read in one chunk."""
    _, token = GENERATORS["token"]()
    _, password = GENERATORS["password"]()
    data = a_log(token) + f"\x1b]0;title\x07\x1b[1;31mDB_PASSWORD='{password}'\x1b[0m ✗\r\n".encode()
    whole = LogLearner(Redactor())
    whole.feed(data)
    whole.close()
    pieces, at = [], 0
    for cut in sorted({int(c * len(data)) for c in cuts}):
        if at < cut < len(data):
            pieces.append(data[at:cut])
            at = cut
    pieces.append(data[at:])
    learner = LogLearner(Redactor())
    for piece in pieces:
        learner.feed(piece)
    learner.close()
    kept = f"{encoded(token)['base64']} {encoded(password)['url']} {encoded(password)['hex']}"
    assert whole.known_secrets == learner.known_secrets == 2
    assert learner.redact_known(kept) == whole.redact_known(kept)
    assert survivors(learner.redact_known(kept), [token, password]) == []
