"""Timestamped job logs (GitLab Runner's FF_TIMESTAMPS, ISO-8601 per line): the excerpt reads them as the plain log."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from bot.core.excerpt.read import excerpt, excerpt_chunks, line_range
from bot.core.excerpt.stamps import GITLAB, ISO, PLAIN, Destamper, detect
from bot.core.fingerprint import failure_keys
from bot.core.heuristics import analyze
from tests.helpers import DATA, ROOT

CORPUS = ROOT / "tests" / "data" / "ci-logs"
DATASETS = ROOT.parent / "shared" / "datasets"


def _load(path: Path, name: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


cv_folds = _load(ROOT / "benchmarks" / "cv_folds.py", "cv_folds")

PLAIN_LOG = (
    b"Running with gitlab-runner 17.6.0 (374d34fd)\n"
    b'section_start:1764493200:step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting "step_script"\x1b[0;m\n'
    b"\x1b[32;1m$ pytest -q\x1b[0;m\n"
    + b"".join(b"tests/test_%d.py ....                    [ %d%%]\n" % (i, i) for i in range(60))
    + b"=================================== FAILURES ===================================\n"
    b"________________________________ test_total _________________________________\n"
    b"    def test_total():\n"
    b">       assert total([1, 2]) == 4\n"
    b"E       assert 3 == 4\n"
    b"tests/test_cart.py:12: AssertionError\n"
    b"=========================== 1 failed, 240 passed in 3.1s ===========================\n"
    b"section_end:1764493260:step_script\r\x1b[0K\n"
    b"\x1b[31;1mERROR: Job failed: exit code 1\n\x1b[0;m\n"
)


def as_tuples(ex) -> list[tuple]:
    return [(line.n, line.text, line.section, line.cut) for line in ex.lines]


def stamp(data: bytes, style: str) -> bytes:
    return cv_folds.stamp_log(data, "test.log", style)


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def destamp(data: bytes, size: int) -> tuple[bytes, str | None]:
    stamper = Destamper()
    out = b"".join(stamper.feed(data[i : i + size]) for i in range(0, len(data), size)) + stamper.close()
    return out, stamper.style


@pytest.mark.parametrize("style", ["gitlab", "iso"])
@pytest.mark.parametrize("budget", [300, 800, 8000])
def test_a_timestamped_log_gives_the_excerpt_of_the_plain_log(style, budget):
    plain = excerpt(PLAIN_LOG, budget)
    stamped = excerpt(stamp(PLAIN_LOG, style), budget)
    assert as_tuples(stamped) == as_tuples(plain)
    assert stamped.failed_section == "step_script" and stamped.total_lines == plain.total_lines
    assert budget < 800 or "E       assert 3 == 4" in stamped.text()
    assert stamped.bytes_read == len(stamp(PLAIN_LOG, style))  # the size limit is about the log as fetched


@pytest.mark.parametrize("style", ["gitlab", "iso"])
def test_the_offline_answer_to_a_timestamped_log_is_the_plain_logs(style):
    plain = analyze(excerpt(PLAIN_LOG), failure_reason="script_failure")
    stamped = analyze(excerpt(stamp(PLAIN_LOG, style)), failure_reason="script_failure")
    assert stamped == plain
    assert "assert 3 == 4" in stamped.summary and "Z 00O" not in stamped.summary


@pytest.mark.parametrize("size", [1, 7, 100, 1 << 20])
def test_prefixes_are_removed_whatever_the_chunk_boundaries(size):
    stamped = stamp(PLAIN_LOG, "gitlab")
    assert destamp(stamped, size) == (PLAIN_LOG, GITLAB)
    assert as_tuples(excerpt_chunks(stamped[i : i + size] for i in range(0, len(stamped), size))) == as_tuples(
        excerpt(PLAIN_LOG)
    )


@pytest.mark.parametrize("size", [1, 5, 64, 4096])
def test_a_line_the_runner_split_is_joined_and_later_lines_keep_their_numbers(size):
    lines = [b"2026-11-30T09:00:00.%06dZ 01O %s" % (i, text) for i, text in enumerate([b"$ make"] * 20)]
    lines += [
        b"2026-11-30T09:00:01.000001Z 01E error: cannot open 'config/",
        b"2026-11-30T09:00:01.000002Z 01E+settings.yaml': no such file",
        b"2026-11-30T09:00:01.000003Z 01E+ or directory",
        b"2026-11-30T09:00:01.000004Z 01O make: *** [build] Error 1",
        b"2026-11-30T09:00:01.000005Z 01O ERROR: Job failed: exit code 2",
    ]
    out, style = destamp(b"\n".join(lines) + b"\n", size)
    assert style == GITLAB
    got = out.split(b"\n")
    assert got[20] == b"error: cannot open 'config/settings.yaml': no such file or directory"
    assert got[21:23] == [b"", b""]  # the continuations' own lines, empty: the numbers below do not move
    assert got[23] == b"make: *** [build] Error 1"
    ex = excerpt(b"\n".join(lines) + b"\n")
    shown = {line.n: line.text for line in ex.lines}
    assert shown[21] == "error: cannot open 'config/settings.yaml': no such file or directory"
    assert shown[24] == "make: *** [build] Error 1" and shown[25] == "ERROR: Job failed: exit code 2"


@pytest.mark.parametrize(
    ("prefix", "style"),
    [
        (b"2026-11-30T09:00:00.1234567Z ", ISO),  # GitHub Actions
        (b"2026-11-30T09:00:00.123456789Z ", ISO),  # docker logs -t, kubectl logs --timestamps
        (b"2026-11-30T09:00:00+01:00 ", ISO),  # a zone offset instead of Z
        (b"2026-11-30T09:00:00.123Z ", ISO),
        (b"[2026-12-09T10:20:11.123Z] ", "jenkins"),  # Jenkins' Timestamper, ISO time in brackets
        (b"10:20:11 ", "clock"),  # Jenkins' Timestamper, the clock alone
        (b"[10:20:11]i:\t [Step 2/3] ", "teamcity"),  # TeamCity's downloaded build log
        (b"[10:20:11] :\t ", "teamcity"),
    ],
)
def test_leading_timestamps_are_removed(prefix, style):
    data = b"".join(prefix + line + b"\n" for line in PLAIN_LOG.split(b"\n")[:-1])
    assert detect(data) == style
    assert as_tuples(excerpt(data, 800)) == as_tuples(excerpt(PLAIN_LOG, 800))


@pytest.mark.parametrize(
    ("app_line", "shown"),
    [
        (b"2026-11-30T09:00:0%dZ INFO started worker %d\n", "2026-11-30T09:00:01Z INFO started worker 1"),
        (b"10:20:1%d worker %d started\n", "10:20:11 worker 1 started"),
    ],
)
def test_a_plain_log_that_prints_some_timestamped_lines_is_left_as_it_is(app_line, shown):
    app_lines = b"".join(app_line % (i, i) for i in range(5))
    data = PLAIN_LOG.replace(b"$ pytest -q\x1b[0;m\n", b"$ pytest -q\x1b[0;m\n" + app_lines)
    assert detect(data) == PLAIN
    assert shown in [line.text for line in excerpt(data, 20_000).lines]


def test_the_fingerprint_and_the_model_see_the_lines_without_timestamps():
    plain, stamped = excerpt(PLAIN_LOG, 800), excerpt(stamp(PLAIN_LOG, "gitlab"), 800)
    assert failure_keys(stamped) == failure_keys(plain)
    assert stamped.numbered() == plain.numbered()
    assert "2026-11-30T" not in stamped.numbered()


def test_a_line_range_of_a_timestamped_log_is_shown_without_timestamps():
    raw = (DATA / "logs" / "gitlab_pytest.log").read_bytes()
    plain = line_range(pieces(raw, 100), 15, 18)
    stamped = line_range(pieces(stamp(raw, "gitlab"), 100), 15, 18)
    assert stamped == plain and plain


def shared_cases():
    score_dir = DATASETS / "logchunks-dev"
    if not (score_dir / "score.py").exists():
        pytest.skip(f"the shared data sets are not here ({DATASETS}): nothing to compare on")
    score = cv_folds.load_scorer(score_dir)
    cases = cv_folds.logchunks_cases(score_dir, score)
    if (DATASETS / "cidiff-dev" / "cases").is_dir():
        cases += cv_folds.cidiff_cases(DATASETS / "cidiff-dev", score)[0]
    return score, cases + cv_folds.corpus_cases(CORPUS, score)


@pytest.mark.timeout(900)
def test_every_shared_log_scores_the_same_timestamped():
    """Labelled lines held at 8,000 characters, plain against GitLab- and ISO-timestamped, on every shared log."""
    score, cases = shared_cases()
    held = {"plain": 0, "gitlab": 0, "iso": 0}
    for case in cases:
        data = case.log.read_bytes()
        raw = cv_folds.read_lines(case.log)
        for style in held:
            log = data if style == "plain" else cv_folds.stamp_log(data, case.name, style)
            lines = [{"n": line.n, "text": line.text} for line in excerpt(log, 8000).lines]
            held[style] += case.gold <= score.covered_lines(raw, lines)
    assert held["plain"] / len(cases) > 0.5, held
    for style in ("gitlab", "iso"):
        assert abs(held["plain"] - held[style]) / len(cases) <= 0.01, held


def test_a_github_actions_log_replayed_by_a_stamping_runner_loses_both_prefixes():
    gha = b"".join(b"2022-05-30T09:10:51.1050765Z " + line + b"\n" for line in PLAIN_LOG.split(b"\n")[:-1])
    twice = stamp(gha, "gitlab")
    assert destamp(twice, 50)[0] == PLAIN_LOG
    assert as_tuples(excerpt(twice, 800)) == as_tuples(excerpt(gha, 800)) == as_tuples(excerpt(PLAIN_LOG, 800))
    assert excerpt(twice).bytes_read == len(twice)
