"""Tests for job-log cleaning and the failure excerpt (bot/logs.py) and the excerpt CLI."""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bot.cli import excerpt as cli
from bot.core.excerpt.clean import CUT_MARK, clean_text, clip, render_line, shorten
from bot.core.excerpt.read import (
    MAX_RANGE_LINES,
    excerpt,
    excerpt_chunks,
    excerpt_reader,
    excerpt_stream,
    line_range,
)
from bot.core.excerpt.rules import score_line
from bot.core.redact import Redactor, placeholder
from tests.helpers import DATA, ROOT

LOGS = DATA / "logs"
REPO = ROOT


def shared_dataset() -> Path | None:
    for root in (REPO.parent / "shared", REPO / ".." / "shared"):
        path = root / "datasets" / "logchunks-dev"
        if (path / "score.py").exists():
            return path
    return None


async def achunks(data: bytes, size: int):
    for piece in pieces(data, size):
        yield piece


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def used_chars(ex) -> int:
    return sum(len(line.text) + 1 for line in ex.lines)


def scorer_lines(raw: str) -> list[str]:
    return raw.replace("\r\n", "\n").split("\n")


# --- cleaning ------------------------------------------------------------------
def test_carriage_return_overwrites_like_a_terminal():
    assert clean_text("abc\rxy") == "xyc"
    assert clean_text("Downloading 10%\rDownloading 100%") == "Downloading 100%"


def test_erase_line_after_carriage_return_clears_the_old_text():
    assert clean_text("progress 99%\r\x1b[0Kdone") == "done"
    assert clean_text("abcdef\r\x1b[2Kxy") == "xy"


def test_ansi_colours_are_removed():
    assert clean_text("\x1b[31;1mERROR:\x1b[0m build \x1b[1mfailed\x1b[0m") == "ERROR: build failed"
    assert clean_text("\x1b]0;title\x07plain") == "plain"
    # Buildkite's per-line timestamp, an APC string ended by BEL or ST: a terminal shows nothing of it.
    assert clean_text("\x1b_bk;t=1765275611000\x07--- FAIL: TestCart (0.00s)") == "--- FAIL: TestCart (0.00s)"
    assert clean_text("\x1b_bk;t=1765275611000\x1b\\\x1b[31merror\x1b[0m: x") == "error: x"


def test_crlf_is_a_line_end_and_not_an_overwrite():
    ex = excerpt(b"one\r\ntwo\r\nerror: three\r\n")
    assert [(line.n, line.text) for line in ex.lines] == [(1, "one"), (2, "two"), (3, "error: three"), (4, "")]


def test_invalid_utf8_is_replaced_even_when_split_across_chunks():
    data = "ok\nerror: caf\u00e9 \u2603 broken\n".encode() + b"bad \xff\xfe byte\n"
    whole = excerpt(data)
    for size in (1, 2, 3, 5):
        assert excerpt_chunks([data[i : i + size] for i in range(0, len(data), size)]) == whole
    texts = [line.text for line in whole.lines]
    assert "error: caf\u00e9 \u2603 broken" in texts
    assert "bad \ufffd\ufffd byte" in texts


def test_gitlab_sections_name_the_failed_step():
    with open(LOGS / "gitlab_pytest.log", "rb") as fh:
        ex = excerpt_reader(fh)
    assert ex.failed_section == "step_script"
    by_n = {line.n: line for line in ex.lines}
    failed = next(line for line in ex.lines if line.text.startswith("FAILED tests/test_money.py"))
    assert failed.section == "step_script"
    assert by_n[failed.n].text.endswith("assert 1250.0 == 12.5")
    # The section header is shown as the text a person sees, not the marker.
    raw = (LOGS / "gitlab_pytest.log").read_bytes()
    header_n = (
        scorer_lines(raw.decode()).index(
            next(x for x in scorer_lines(raw.decode()) if "section_start" in x and "step_script" in x)
        )
        + 1
    )
    assert (
        render_line(scorer_lines(raw.decode())[header_n - 1].encode())
        == 'Executing "step_script" stage of the job script'
    )


def test_line_numbers_follow_the_scorer_rule():
    raw = (LOGS / "gitlab_pytest.log").read_bytes().decode()
    lines = scorer_lines(raw)
    ex = excerpt(raw)
    assert ex.total_lines == len(lines)
    for line in ex.lines:
        assert line.text == clean_text(lines[line.n - 1]) or CUT_MARK.split("{")[0] in line.text


def test_pytest_failure_is_found_with_its_assertion():
    with open(LOGS / "gitlab_pytest.log", "rb") as fh:
        ex = excerpt_reader(fh, budget_chars=600)
    text = ex.text()
    assert "E       AssertionError: assert 1250.0 == 12.5" in text
    assert "ERROR: Job failed: exit code 1" in text
    assert used_chars(ex) <= 600


# --- finding the failure ---------------------------------------------------------
def test_failure_followed_by_thousands_of_cleanup_lines_is_found():
    log = (LOGS / "maven_build_failure.log").read_text()
    log += "".join(f"[INFO] uploading cache part {i} of 5000\n" for i in range(5000))
    log += "ERROR: Job failed: exit code 1\n"
    ex = excerpt(log, budget_chars=2000)
    text = ex.text()
    assert "[ERROR] /builds/app/src/main/java/app/Main.java:[12,8] cannot find symbol" in text
    assert "  symbol:   class Strng" in text
    assert "[INFO] BUILD FAILURE" in text
    assert ex.lines[-2].text == "ERROR: Job failed: exit code 1"
    assert used_chars(ex) <= 2000


@pytest.mark.parametrize(
    "failure",
    [
        "npm ERR! missing script: test",
        "thread 'main' panicked at 'index out of bounds', src/main.rs:4:5",
        "--- FAIL: TestParse (0.00s)",
        "Killed",
        "ERROR: Job failed: execution took longer than 1h0m0s seconds",
        "fatal: unable to access 'https://example.invalid/repo.git/': Could not resolve host",
    ],
)
def test_typical_failures_in_the_middle_are_found(failure):
    noise = "".join(f"compiling module_{i}.c\n" for i in range(3000))
    log = noise + failure + "\n" + noise + "Done. Your build exited with 1.\n"
    ex = excerpt(log, budget_chars=1500)
    assert failure in ex.text()
    assert "Done. Your build exited with 1." in ex.text()


def test_exit_line_is_always_kept():
    log = "".join(f"error: problem number {i}\n" for i in range(2000)) + 'The command "make" exited with 2.\n'
    ex = excerpt(log, budget_chars=500)
    assert ex.lines[-2].text == 'The command "make" exited with 2.'
    assert ex.lines[-1].n == ex.total_lines


def test_repeated_lines_are_shown_once_where_possible():
    log = "".join("warning: flaky network, error retrying\n" for _ in range(300))
    log += "".join(f"step {i}\n" for i in range(300)) + "error: the real problem\nexit code 1\n"
    ex = excerpt(log, budget_chars=400)
    assert "error: the real problem" in ex.text()
    assert ex.text().count("warning: flaky network") <= 3


def test_first_failure_of_the_failing_step_beats_logged_errors_and_earlier_steps():
    log = (
        "$ make deps\n"
        + "".join(f"2019-04-12 14:49:{i % 60:02d} ERROR cache: miss for key {i}\n" for i in range(200))
        + "$ go test ./...\n"
        + "".join(f"2019-04-12 14:50:{i % 60:02d} ERROR proxy: dial failed attempt {i}\n" for i in range(300))
        + "--- FAIL: TestParse (0.01s)\n\tparse_test.go:12: Error Trace: parse_test.go:12\n\tError: Should be true\n"
        + "".join(f"ok   pkg/mod{i} 0.1s\n" for i in range(50))
        + "--- FAIL: TestLater (0.02s)\n\tlater_test.go:3: boom\n"
        + 'The command "go test ./..." exited with 1.\n\nDone. Your build exited with 1.\n'
    )
    text = excerpt(log, budget_chars=300).text()
    assert (
        "--- FAIL: TestParse (0.01s)\n\tparse_test.go:12: Error Trace: parse_test.go:12\n\tError: Should be true"
        in text
    )
    assert 'The command "go test ./..." exited with 1.' in text
    assert "Done. Your build exited with 1." in text


def test_a_failure_report_is_kept_whole_across_separators_and_frames():
    report = [
        "=================================== FAILURES ===================================",
        "_________________________________ test_readme _________________________________",
        "",
        "    def test_readme():",
        ">       assert rule in readme",
        "E       AssertionError: Missing rule in README.md",
        "",
        "tests/test_readme.py:9: AssertionError",
    ]
    log = "".join(f"tests/test_{i}.py::test_ok PASSED\n" for i in range(400)) + "\n".join(report) + "\n"
    log += "".join(f"noise line {i}\n" for i in range(100)) + "ERROR: Job failed: exit code 1\n"
    text = excerpt(log, budget_chars=500).text()
    assert "\n".join(report) in text


def test_detail_printed_above_a_verdict_is_kept_with_it():
    detail = [
        "# Starting Test: dns - resolveTxtTCP",
        "  tests/libs/tap.lua:85: Missing 1 expected call",
        "  stack traceback:",
        "  \t[C]: in function 'xpcall'",
        "  \ttests/libs/tap.lua:66: in function 'run'",
        "  \ttests/libs/tap.lua:167: in function 'tap'",
        "  \ttests/run.lua:42: in main chunk",
        "  \t[C]: in function 'dofile'",
        "not ok 23 dns - resolveTxtTCP",
    ]
    log = "".join(f"ok {i} dns - case {i}\n" for i in range(300)) + "\n".join(detail) + "\n"
    log += "".join(f"ok {i} dns - later {i}\n" for i in range(100)) + "ERROR: Job failed: exit code 1\n"
    text = excerpt(log, budget_chars=500).text()
    assert "\n".join(detail[1:]) in text


def test_progress_lines_above_a_verdict_are_not_taken_as_its_detail():
    log = "".join(f"   Compiling crate{i} v0.{i}.0\n" for i in range(60))
    log += "error: failed to run custom build command for `sys-crate v0.3.0`\n"
    log += "".join(f"cleanup {i}\n" for i in range(50)) + "ERROR: Job failed: exit code 1\n"
    text = excerpt(log, budget_chars=400).text()
    assert "error: failed to run custom build command for `sys-crate v0.3.0`" in text
    assert "Compiling crate1 v0.1.0" not in text


def test_a_report_framed_by_rules_above_a_verdict_is_kept_whole():
    # A runner that prints a failed test's diff between two rules, then its verdict.
    diff = ["=======DIFF=======", "003+ Warning: unable to bind address"]
    diff += [f"{i:03d}-     [key{i}] => {i}" for i in range(4, 64)]
    diff += ["=======DONE=======", "FAIL socket receive test [tests/socket_recv.phpt]"]
    log = "".join(f"SKIP case {i} [tests/case_{i}.phpt] reason: windows only\n" for i in range(300))
    log += "\n".join(diff) + "\n"
    log += "".join(f"SKIP later {i} [tests/later_{i}.phpt] reason: online test\n" for i in range(200))
    log += "ERROR: Job failed: exit code 1\n"
    text = excerpt(log, budget_chars=2000).text()
    assert "\n".join(diff) in text


def test_a_rule_above_a_verdict_with_a_blank_line_under_it_frames_nothing():
    log = "".join(f"step output {i}\n" for i in range(100)) + "==========\n\n"
    log += "".join(f"detail {i}\n" for i in range(30)) + "==========\nFAIL test_x\n"
    log += "".join(f"noise after {i}\n" for i in range(100)) + "ERROR: Job failed: exit code 1\n"
    text = excerpt(log, budget_chars=400).text()
    assert "FAIL test_x" in text
    assert "detail 3\n" not in text


def test_test_names_that_say_without_error_do_not_crowd_out_the_error():
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # names of distinct shapes, not numbered
    names = "".join(
        f"      '{letters[i % 52]}{letters[i // 52]}Case.src' should compile and run without error:\n"
        for i in range(120)
    )
    error = ["        Error found:", "        in module Main", "          Module Safe.Coerce was not found."]
    log = "$ ci/build.sh\n" + names + "\n".join(error) + "\n" + names.replace("Case", "Later")
    log += "".join(f"noise after {i}\n" for i in range(50))
    log += '3 out of 240 tests failed\nThe command "ci/build.sh" exited with 1.\n'
    text = excerpt(log, budget_chars=1200).text()
    assert "\n".join(error) in text


def test_a_report_header_is_followed_into_the_items_under_it():
    names = ["test_readme", "test_match[cmd0]", "test_not_match[cmd0]", "test_not_match[cmd1]"]
    report = ["=================================== FAILURES ==================================="]
    for i, name in enumerate(names):
        report += [
            f"____________________ {name} ____________________",
            "",
            f"mocker = <MockFixture object at 0x7f53{i}>",
            "",
            f"    def {name.split('[')[0]}(mocker):",
            f">       assert match(cmd{i})",
            f"E       AttributeError: 'tuple' object has no attribute 'output{i}'",
            "",
            f"tests/test_rules.py:{10 + i}: AttributeError",
        ]
    log = "$ pytest -v\n"
    for k, name in enumerate(names):  # the run's progress names each failing test as it goes
        log += "".join(f"tests/test_{k}_{i}.py::test_ok PASSED [{i % 100}%]\n" for i in range(80))
        log += f"tests/test_rules.py::{name} FAILED [{k * 20}%]\n"
    log += "".join(f"tests/test_z_{i}.py::test_ok PASSED [{i % 100}%]\n" for i in range(40))
    log += "\n".join(report) + '\n===== 4 failed, 360 passed in 3.2s =====\nThe command "pytest -v" exited with 1.\n'
    text = excerpt(log, budget_chars=1400).text()
    assert "\n".join(report) in text


def test_the_last_item_under_titled_rules_runs_up_to_the_next_section_rule():
    report = ["=================================== FAILURES ==================================="]
    for i in range(3):
        report += [
            f"____________________ test_case[{i}] ____________________",
            "",
            f"fixture_value = <Fixture object at 0x7f53{i}>",
            f"expected = 'value {i}'",
            "",
            "    def test_case(fixture_value, expected):",
            ">       assert fixture_value == expected",
            f"E       AssertionError: assert <Fixture {i}> == 'value {i}'",
            "",
            f"tests/test_case.py:{10 + i}: AssertionError",
        ]
    log = "$ pytest -v\n" + "".join(f"tests/test_{i}.py::test_ok PASSED [{i % 100}%]\n" for i in range(300))
    log += "\n".join(report) + "\n=============================== warnings summary ===============================\n"
    log += "".join(f"  lib/module_{i}.py:3: DeprecationWarning: old call {i}\n" for i in range(40))
    log += '===== 3 failed, 300 passed in 3.2s =====\nThe command "pytest -v" exited with 1.\n'
    text = excerpt(log, budget_chars=1300).text()
    assert "\n".join(report) in text


def test_a_located_diagnostic_keeps_its_caret_past_a_formatters_artefact_lines():
    diagnostic = [
        "nl❌  /build/Source/Parser.swift:97:2: unknown attribute 'dynamicLookup'",
        "nl",
        "nl",
        "nl",
        "nl@dynamicLookup",
        "",
        " ^",
    ]
    log = "$ xcodebuild test | xcpretty\n" + "".join(f"▸ Compiling File{i}.swift\nnl\n" for i in range(150))
    log += "\n".join(diagnostic) + "\n"
    log += "".join(f"▸ Processing resource bundle Asset{i}.plist for target\n" for i in range(12))
    log += "** TEST BUILD FAILED **\n\nThe following build commands failed:\n"
    log += "\tCompileSwift normal x86_64 /build/Source/Parser.swift\n(1 failure)\n"
    log += "".join(f"Writing result bundle to /Users/build/DerivedData/Logs/Test/run-{i}.xcresult\n" for i in range(60))
    log += 'The command "xcodebuild test" exited with 65.\n'
    text = excerpt(log, budget_chars=1000).text()
    assert "\n".join(diagnostic) in text


def test_a_single_item_under_a_titled_rule_is_kept_whole():
    report = [
        "=================================== FAILURES ===================================",
        "_________________________________ test_readme __________________________________",
        "",
        "source_root = PosixPath('/build/project')",
        "",
        "    def test_readme(source_root):",
        "        readme = source_root.joinpath('README.md').read_text()",
        "",
        "        for rule in bundled_rules():",
        ">           assert rule in readme",
        "E           AssertionError: Missing rule 'docker_image' in README.md",
        "",
        "tests/test_readme.py:11: AssertionError",
    ]
    log = "$ pytest -v\n" + "".join(f"tests/test_{i}.py::test_ok PASSED [{i % 100}%]\n" for i in range(200))
    log += "tests/test_readme.py::test_readme FAILED [50%]\n"
    log += "".join(f"tests/test_b{i}.py::test_ok PASSED [{i % 100}%]\n" for i in range(200))
    log += "\n".join(report) + "\n=============================== warnings summary ===============================\n"
    log += "".join(f"  lib/module_{i}.py:3: DeprecationWarning: old call {i}\n" for i in range(40))
    log += '===== 1 failed, 400 passed in 3.2s =====\nThe command "pytest -v" exited with 1.\n'
    text = excerpt(log, budget_chars=1000).text()
    assert "\n".join(report) in text


def test_the_line_above_a_usage_banner_is_taken_as_the_error():
    log = "$ ci/run-build-and-tests.sh\n"
    log += "".join(
        f"[22:0{i % 10}:00] t{9000 + i}-cvs.sh ....................... skipped: no cvs found\n" for i in range(60)
    )
    log += "".join(f"make[2]: Leaving directory '/build/t{i}'\n" for i in range(30))
    log += "+t/validator --trace2_event_file=/tmp/tmp.x --schema_file=t/schema.json\n"
    log += "flag provided but not defined: -trace2_event_file\nUsage of t/validator:\n"
    log += "".join(
        f"  -option{i} string\n    \tWhat option {i} does, at some length to cost budget\n" for i in range(12)
    )
    log += 'The command "ci/run-build-and-tests.sh" exited with 2.\n'
    text = excerpt(log, budget_chars=600).text()
    assert "flag provided but not defined: -trace2_event_file\nUsage of t/validator:" in text


def test_failure_words_inside_names_do_not_outrank_a_real_warning_as_error():
    # A module list that names "Text.Pandoc.Error" or "error-handler.js" is not a failure line.
    modules = ",".join(f"Text.Pandoc.Error{i}=pandoc:Text.Pandoc.Error{i}" for i in range(40))
    log = "$ cabal build\n" + "".join(f"    include lib{i}-1.0\n" for i in range(30))
    log += f"    {modules}\n    src/lib/error-handler.js --fail-fast\n"
    log += "".join(f"[{i} of 90] Compiling Mod{i}\n" for i in range(60))
    log += "src/Writer.hs:38:1: Warning:\n    The import of 'Control.Monad' is redundant\n"
    log += "\n<no location info>:\nFailing due to -Werror.\n" + "".join(f"cache {i}\n" for i in range(40))
    log += 'The command "cabal build" exited with 1.\n'
    text = excerpt(log, budget_chars=700).text()
    assert "src/Writer.hs:38:1: Warning:\n    The import of 'Control.Monad' is redundant" in text
    assert score_line("    Text.Pandoc.Error=pandoc:Text.Pandoc.Error") == 0.0
    assert score_line("src/lib/error-handler.js --fail-fast") == 0.0
    assert score_line("there was an error.") > 0 and score_line("3 tests failed") > 0


def _corpus_lines() -> list[str]:
    """Lines of every log the tests and examples ship, and of the LogChunks logs when they are here."""
    paths = sorted((REPO / "examples").glob("*.log")) + sorted((REPO / "tests" / "data" / "logs").glob("*"))
    data = shared_dataset()
    if data is not None:
        paths += sorted((data / "logs").glob("*/*/failed/*.log"))[::16]
    lines = []
    for path in paths:
        lines += [line[:3000] for line in path.read_text(errors="replace").splitlines()]
    return lines


def test_rule_gate_words_never_hide_a_match():
    # Each rule has gate words (a substring test before the regex, for speed); a gate must hold on every
    # line the rule's pattern matches, or the speed-up would change scores.
    from bot.core.excerpt import rules

    # A word with a capital is looked for as written, a lower-case word in the lower-cased line.
    gates = (
        [(p, w) for p, _, w in rules._RULES]
        + rules._BENIGN
        + [(rules._WARNING, rules._WARNING_WORDS), (rules.EXIT_LINE, rules._EXIT_WORDS)]
    )
    checked = 0
    for line in _corpus_lines():
        low = line.lower()
        for pattern, words in gates:
            if words is not None and pattern.search(line):
                checked += 1
                assert any(word in (low if word == word.lower() else line) for word in words), (
                    pattern.pattern[:60],
                    line,
                )
    assert checked > (1000 if shared_dataset() is not None else 50)


def test_a_repeated_error_with_the_runners_summary_under_it_is_not_a_mere_repeat():
    trace = ["Error while processing route: admin.words", "TypeError: Cannot read property 'block' of undefined"]
    trace += [f"    at frame{i} (ember:{100 + i}:7)" for i in range(8)]
    summary = [
        "",
        "Module Failed: Admin - Words",
        "  Test Failed: remove words",
        "    Assertion Failed: TypeError: Cannot read property 'block' of undefined",
    ]
    log = "$ bin/rake qunit:test\n" + "".join(f"test {i} .\n" for i in range(50)) + "\n".join(trace) + "\nF\n"
    for k in range(20):  # lesser complaints of the run, each a block of its own
        log += (
            "".join(f"test {k}-{i} .\n" for i in range(30))
            + f"Fixture {chr(97 + k)}{chr(65 + k)} failed to load, using defaults\n"
        )
    log += "".join(f"test z{i} .\n" for i in range(30)) + "\n".join(trace + summary) + "\n\nSlowest tests\n"
    log += "".join(f"test z{i}: {i}ms\n" for i in range(40)) + 'The command "bin/rake qunit:test" exited with 1.\n'
    text = excerpt(log, budget_chars=1200).text()
    assert "\n".join(summary[1:]) in text


NPM_LIFECYCLE = """npm ERR! Linux 4.8.12-040812-generic
npm ERR! argv "/usr/bin/node" "/usr/bin/npm" "test"
npm ERR! node v10.16.0
npm ERR! npm  v6.9.0
npm ERR! code ELIFECYCLE
npm ERR! errno 1
npm ERR! app@1.0.0 test-style: `standard lib/*.js`
npm ERR! Exit status 1
npm ERR!
npm ERR! Failed at the app@1.0.0 test-style script.
npm ERR! This is probably not a problem with npm. There is likely additional logging output above.
npm ERR! A complete log of this run can be found in:
npm ERR!     /home/ci/.npm/_logs/2019-08-02T20_05_50_123Z-debug.log
"""


def test_npm_lifecycle_boilerplate_does_not_outrank_the_report_above_it():
    report = ["standard: Use JavaScript Standard Style (https://standardjs.com)"]
    for name in (
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "india",
        "juliet",
        "kilo",
        "lima",
        "mike",
        "november",
        "oscar",
    ):
        report += [
            f"  /build/app/lib/{name}.js:0:0: Parsing error: Unexpected token",
            "    token.value = `/${v}/`;",
            "                  ^",
            "Unexpected token ILLEGAL",
        ]
    log = "$ npm test\n" + "".join(f"building {i}\n" for i in range(200)) + "> standard lib/*.js\n\n"
    log += "\n".join(report) + "\n\n" + NPM_LIFECYCLE + '\nThe command "npm test" exited with 1.\n'
    text = excerpt(log, budget_chars=3600).text()
    assert "\n".join(report) in text  # first, whole: each item, repeats and all, since it fits
    assert score_line("npm ERR! code ELIFECYCLE") < score_line("npm ERR! missing script: test")


def test_the_line_above_an_npm_see_above_report_is_taken_as_the_error():
    log = "$ npm test\n" + "".join(f"[02:22:{i % 60:02d}] Starting task t{i}\n" for i in range(100))
    log += "> gulp\n\n[02:22:53] Using gulpfile ~/app/gulpfile.js\n[02:22:53] Task never defined: default\n"
    log += "npm ERR! Test failed.  See above for more details.\n\n" + "".join(f"cache {i}\n" for i in range(60))
    log += 'The command "npm test" exited with 1.\n'
    text = excerpt(log, budget_chars=500).text()
    assert "[02:22:53] Task never defined: default\nnpm ERR! Test failed." in text


def test_an_uncaught_javascript_error_with_its_stack_is_a_verdict_like_a_traceback():
    node = ["Error: Cannot find module 'fast-deep-equal'"] + [
        f"    at Module._load (module.js:{300 + i}:25)" for i in range(6)
    ]
    python = [
        "Traceback (most recent call last):",
        '  File "ci/build.py", line 12, in <module>',
        "    main()",
        "subprocess.CalledProcessError: Command 'apt-get update' returned non-zero exit status 100",
    ]
    log = "$ npm install\n" + "".join(f"fetch pkg{i}\n" for i in range(50)) + "\n".join(node) + "\n"
    log += 'The command "npm install" exited with 1.\n$ ci/build.py\n' + "".join(f"step {i}\n" for i in range(50))
    log += "\n".join(python) + '\nThe command "ci/build.py" exited with 1.\n'
    # Two equally strong failures in two failing steps: the first one leads.
    text = excerpt(log, budget_chars=420).text()
    assert "\n".join(node[:3]) in text


def test_timeout_settings_are_not_timeouts():
    assert score_line('[17:43:01] Running tests with config: {"light":false,"timeout":"600000"}') == 0.0
    assert score_line("$ export timeout=600000") == 0.0 and score_line("pytest --timeout 30 tests/") == 0.0
    assert score_line("ERROR: Job failed: execution took longer than 1h0m0s seconds (timed out)") > 0
    assert score_line("No output has been received in the last 10m0s") > 0 and score_line("Killed") > 0


def test_a_block_too_big_for_the_budget_drops_its_own_repeats_but_a_report_that_fits_is_whole():
    attempt = [
        f"/build/src/App.csproj : error NU1605: Detected package downgrade: Pkg{k} from 4.1 to 4.0" for k in range(6)
    ]
    log = "$ dotnet restore\n" + "".join(f"restoring {i}\n" for i in range(40))
    log += "".join("\n".join(attempt) + "\nFailed to restore /build/src, retrying...\n" for _ in range(8))
    log += "Execution of { dotnet restore } by build.psm1: line 519 failed with exit code 1\n"
    log += 'The command "pwsh build.ps1" exited with 1.\n'
    text = excerpt(log, budget_chars=2000).text()
    assert "line 519 failed with exit code 1" in text
    assert text.count(attempt[0]) < 8  # the retries' repeats made room for the verdict under them


def test_gate_words_see_the_letters_a_case_insensitive_pattern_matches():
    # "(?i)fail" matches "faıl" (dotless i) and "(?i)pass" matches "paſs" (long s), though lower() keeps them apart.
    from bot.core.excerpt.rules import score_line

    assert score_line("recıpe for target 'all' faıled") == score_line("recipe for target 'all' failed") > 0
    assert score_line("the error handler test paſsed") == score_line("the error handler test passed") < 6.0


def test_a_numbered_failure_list_is_kept_whole_with_its_plain_lines():
    report = ["There were 6 failures:", ""]
    for i in range(1, 7):
        report += [
            f"{i}) Tests\\ClockTest::testCase{i}",
            f"Failed asserting that {i} is identical to 0.",
            "",
            f"/build/src/Tests/ClockTest.php:{30 + i}",
            "",
        ]
    log = "".join(f"noise before {i}\n" for i in range(300)) + "\n".join(report) + "\nFAILURES!\n"
    log += "".join(f"noise after {i}\n" for i in range(100)) + "ERROR: Job failed: exit code 1\n"
    text = excerpt(log, budget_chars=900).text()
    assert "\n".join(report[2:-3]) in text  # every item whole, up to the last one's verdict


def test_many_errors_of_one_shape_leave_room_for_what_follows_them():
    project = "/build/src/app/app.csproj : error NU1605: Detected package downgrade"
    log = "".join(f"restore step {i}\n" for i in range(200))
    log += "".join(f"{project}: Pkg.{i} from 4.{i}.0 to 4.0.0\n" for i in range(60))
    log += "Execution of { dotnet restore } by build.psm1: line 519 failed with exit code 1\n"
    log += "At /build/build.psm1:2038 char:17\n+     throw $errorMessage\n+     ~~~~~~~~~~~~~~~~~~~\n\n"
    log += "".join(f"cleanup {i}\n" for i in range(80)) + "ERROR: Job failed: exit code 1\n"
    ex = excerpt(log, budget_chars=3000)
    text = ex.text()
    assert (
        "Execution of { dotnet restore } by build.psm1: line 519 failed with exit code 1\nAt /build/build.psm1:2038 char:17"
        in text
    )
    assert f"{project}: Pkg.0 from 4.0.0 to 4.0.0" in text
    assert "+     throw $errorMessage\n+     ~~~~~~~~~~~~~~~~~~~" in text


def test_a_located_diagnostic_without_the_word_error_is_found():
    # Found among the failing step's last output, which is kept whatever it says.
    log = "$ go vet ./...\n" + "".join(f"checking package pkg{i}\n" for i in range(400))
    log += "cmd/server/main.go:12:3: flag provided but not defined: -verbose\n"
    log += "".join(f"checking package more{i}\n" for i in range(100)) + "ERROR: Job failed: exit code 1\n"
    text = excerpt(log, budget_chars=400).text()
    assert "cmd/server/main.go:12:3: flag provided but not defined: -verbose" in text


def test_warnings_that_fail_the_build_are_shown_with_the_verdict():
    log = "".join(f"[{i} of 90] Compiling Mod{i}\n" for i in range(90))
    log += "src/Ipynb.hs:94:10: Warning:\n    No explicit implementation for\n      'mappend'\n\n<no location info>:\nFailing due to -Werror.\n"
    log += "".join(f"uploading cache part {i}\n" for i in range(300)) + "Done. Your build exited with 1.\n"
    text = excerpt(log, budget_chars=800).text()
    assert "src/Ipynb.hs:94:10: Warning:\n    No explicit implementation for\n      'mappend'" in text
    assert "Failing due to -Werror." in text


# --- budget and long lines -------------------------------------------------------
def test_long_line_is_clipped_to_its_start_so_quotes_stay_true():
    long_line = "error: " + "x" * 5000 + " END"
    ex = excerpt(long_line + "\n", budget_chars=800)
    shown = next(line.text for line in ex.lines if line.n == 1)
    assert shown.startswith("error: xxx")
    assert long_line.startswith(shown)  # a plain prefix: no marker inside text a model may quote
    assert 40 <= len(shown) <= 800
    assert clip("abc def", 4) == "abc" and clip("short", 10) == "short"


def test_indentation_does_not_eat_a_clipped_line():
    # A run of spaces counts as one character, so a deeply indented frame keeps as many words as a flush one.
    words = "frame(" + "arg " * 100 + ")"
    flush, indented = clip(words, 60), clip(" " * 40 + words, 60)
    assert flush.startswith(indented.strip()) and len(indented.strip()) >= len(flush) - 1
    assert clip("a    b    c    d", 5) == "a    b    c"


def test_clipped_line_says_how_much_was_cut_and_stays_a_prefix():
    long_line = "error: " + "x" * 5000 + " END"
    log = "$ make\n" + long_line + "\nmake: *** [all] Error 1\n"
    ex = excerpt(log, budget_chars=800)
    clipped = next(line for line in ex.lines if line.n == 2)
    assert long_line.startswith(clipped.text)
    assert clipped.cut == len(long_line) - len(clipped.text)
    assert sum(len(line.text) + 1 for line in ex.lines) <= 800  # the note is not part of the budget
    assert f"2: {clipped.text} … [{clipped.cut} more characters]" in ex.numbered().splitlines()
    whole = next(line for line in ex.lines if line.n == 3)
    assert whole.cut == 0 and "3: make: *** [all] Error 1" in ex.numbered().splitlines()


def test_cut_counts_the_middle_already_cut_from_a_very_long_line():
    long_line = "FAILED " + "y" * 9000
    ex = excerpt(long_line + "\n", budget_chars=600)
    line = ex.lines[0]
    assert long_line.startswith(line.text)
    assert line.cut == len(long_line) - len(line.text)


def test_shorten_counts_what_it_cut():
    text = "a" * 100 + "b" * 100
    out = shorten(text, 60)
    assert len(out) <= 60
    head, rest = out.split("… [", 1)
    cut = int(rest.split(" chars cut")[0])
    tail = rest.split("] …", 1)[1]
    assert len(head) + cut + len(tail) == 200


def test_fifty_megabyte_single_line_is_streamed(tmp_path):
    path = tmp_path / "huge.log"
    with open(path, "wb") as fh:
        fh.write(b"start\n" + b"error: begins here ")
        for _ in range(50):
            fh.write(b"y" * (1 << 20))
        fh.write(b" and ends here\nERROR: Job failed: exit code 1\n")
    with open(path, "rb") as fh:
        ex = excerpt_reader(fh)
    huge = next(line for line in ex.lines if line.n == 2)
    assert huge.text.startswith("error: begins here yyy")
    assert set(huge.text[len("error: begins here ") :]) == {"y"}  # the start of the line, nothing made up
    assert len(huge.text) <= 1000
    assert ex.lines[-2].text == "ERROR: Job failed: exit code 1"
    assert used_chars(ex) <= 8000


logs_text = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120),
        st.sampled_from(
            [
                "error: x",
                "FAILED test_a",
                "\x1b[31mred\x1b[0m",
                "abc\rxy",
                "Traceback (most recent call last):",
                "section_start:1:step_script\r\x1b[0Kstep",
                "section_end:2:step_script\r\x1b[0K",
                "exited with 1",
                "",
                "   at frame()",
            ]
        ),
        st.text(alphabet="ab\r\x1b[0K", min_size=200, max_size=3000),
    ),
    max_size=80,
).map("\n".join)


@hsettings(max_examples=150, deadline=None)
@given(log=logs_text, budget=st.integers(min_value=0, max_value=3000))
def test_budget_is_never_exceeded(log, budget):
    ex = excerpt(log, budget_chars=budget)
    assert used_chars(ex) <= budget
    numbers = [line.n for line in ex.lines]
    assert numbers == sorted(set(numbers))
    assert all(1 <= n <= ex.total_lines for n in numbers)
    assert ex.total_lines == len(scorer_lines(log))


# --- streaming ---------------------------------------------------------------------
@pytest.mark.parametrize("size", [1, 7, 4096, 65536])
async def test_streaming_equals_whole_string(size):
    raw = (LOGS / "gitlab_pytest.log").read_bytes() + (LOGS / "maven_build_failure.log").read_bytes()
    whole = excerpt(raw, budget_chars=1200)
    streamed = await excerpt_stream(achunks(raw, size), budget_chars=1200)
    assert streamed == whole
    assert streamed.bytes_read == len(raw)


def test_max_bytes_keeps_the_failure_and_the_end_and_marks_truncated():
    head = "error: early strong failure\n"
    noise = "".join(f"warning: minor thing {i} is invalid\n" for i in range(20000))
    end = "FAILED tests/test_x.py::test_y - AssertionError\nERROR: Job failed: exit code 1\n"
    log = head + noise + end
    ex = excerpt(log, budget_chars=1500, max_bytes=10_000)
    assert ex.truncated
    assert ex.bytes_read == len(log.encode())
    text = ex.text()
    assert "FAILED tests/test_x.py::test_y - AssertionError" in text
    assert "ERROR: Job failed: exit code 1" in text
    assert not excerpt(log, budget_chars=1500).truncated


def test_line_filter_sees_kept_lines_in_order_and_its_output_is_used():
    seen: list[str] = []

    def redact(line: str) -> str:
        seen.append(line)
        return line.replace("hunter2", "[REDACTED]")

    log = "login with password hunter2\nerror: auth failed for hunter2\nexit code 1\n"
    ex = excerpt(log, line_filter=redact)
    assert "hunter2" not in ex.text()
    assert "error: auth failed for [REDACTED]" in ex.text()
    assert seen == sorted(seen, key=lambda t: log.split("\n").index(t) if t in log.split("\n") else 99)
    assert len(seen) == len(set(seen))


def fake_key_body(lines: int) -> list[str]:
    """Base64 lines that look like a key's body; built here so no key text sits in the repository."""
    seed = hashlib.sha256(b"not a real key").digest()
    out = []
    for i in range(lines):
        seed = hashlib.sha512(seed + bytes([i])).digest()
        out.append(base64.b64encode(seed).decode()[:64])
    return out


@pytest.mark.parametrize("budget", [1000, 2000])
def test_private_key_body_kept_without_its_begin_line_is_redacted(budget):
    # The failure sits right under a printed key, far from the job's end: only the few lines above
    # the failure are kept, so the key's body is kept and its BEGIN line is not.
    kind = "RSA " + "PRIVATE KEY"
    body = fake_key_body(50)
    lines = [
        "$ ./deploy.sh",
        *[f"preparing host {i}" for i in range(200)],
        "dumping the key that was sent:",
        f"-----BEGIN {kind}-----",
        *body,
        f"-----END {kind}-----",
        "Traceback (most recent call last):",
        '  File "deploy.py", line 12, in <module>',
        "ValueError: key rejected by server",
        *[f"cleaning up host {i}" for i in range(200)],
        "ERROR: Job failed: exit code 1",
        "",
    ]
    ex = excerpt("\n".join(lines), budget_chars=budget, line_filter=Redactor().redact_line)
    begin = lines.index(f"-----BEGIN {kind}-----") + 1
    shown = {line.n for line in ex.lines}
    assert begin not in shown and any(begin < n <= begin + len(body) for n in shown)  # the case under test
    text = ex.text()
    assert not any(part[:20] in text for part in body)
    assert placeholder("private-key") in text
    assert "ValueError: key rejected by server" in text and "ERROR: Job failed: exit code 1" in text


def test_lines_after_a_key_block_are_not_redacted_as_key_material():
    kind = "EC " + "PRIVATE KEY"
    body = fake_key_body(30)
    lines = [
        "$ ./sign.sh",
        f"-----BEGIN {kind}-----",
        *body,
        f"-----END {kind}-----",
        *[f"step {i} fine" for i in range(60)],
        "QmFzZTY0TG9va2luZ1Rva2VuSGVyZQ",
        "error: signature mismatch",
        "ERROR: Job failed: exit code 1",
        "",
    ]
    ex = excerpt("\n".join(lines), budget_chars=400, line_filter=Redactor().redact_line)
    text = ex.text()
    assert not any(part[:20] in text for part in body)
    assert "QmFzZTY0TG9va2luZ1Rva2VuSGVyZQ\nerror: signature mismatch" in text


def test_a_line_range_is_numbered_cleaned_lines():
    raw = (LOGS / "gitlab_pytest.log").read_bytes()
    lines = line_range(pieces(raw, 100), 15, 18)
    assert [line.n for line in lines] == [15, 16, 17, 18]
    assert lines[0].text == "..........F.....                                                         [100%]"
    assert all(line.section == "step_script" for line in lines)
    many = line_range(pieces(b"x\n" * 5000, 999), 1, 10_000)
    assert len(many) == MAX_RANGE_LINES
    assert line_range(pieces(b"a\nb\n", 10), 7, 9) == []


# --- CLI ---------------------------------------------------------------------------
def run_cli(argv: list[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="cicd-bot")
    cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["excerpt", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(args, None, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_json_matches_the_scorer_format():
    path = str(LOGS / "gitlab_pytest.log")
    code, out, _ = run_cli(["--json", "--budget-chars", "500", path])
    assert code == 0
    record = json.loads(out.strip())
    assert record["path"] == path
    assert sum(len(x["text"]) + 1 for x in record["lines"]) <= 500
    assert all(isinstance(x["n"], int) and isinstance(x["text"], str) for x in record["lines"])


def test_cli_shows_where_a_line_was_shortened(tmp_path):
    long_line = "error: " + "z" * 3000
    log_path = tmp_path / "long.log"
    log_path.write_text(f"$ make\n{long_line}\nshort line\n")
    _, out, _ = run_cli(["--json", "--budget-chars", "600", str(log_path)])
    lines = {x["n"]: x for x in json.loads(out)["lines"]}
    assert long_line.startswith(lines[2]["text"])
    assert lines[2]["cut"] == len(long_line) - len(lines[2]["text"])
    assert "cut" not in lines[3]
    _, text_out, _ = run_cli(["--budget-chars", "600", str(log_path)])
    assert f"2: {lines[2]['text']} … [{lines[2]['cut']} more characters]" in text_out


def test_cli_reports_unreadable_paths_and_continues(tmp_path):
    missing = str(tmp_path / "nope.log")
    code, out, err = run_cli([missing, str(LOGS / "maven_build_failure.log")])
    assert code == 1
    assert cli.ERROR_LINE.format(path=missing, reason="No such file or directory") in err
    assert "[INFO] BUILD FAILURE" in out
    assert out.startswith("== ") and "lines," in out


def test_cli_human_output_shows_sections_and_gaps():
    log_path = str(LOGS / "gitlab_pytest.log")
    _, out, _ = run_cli(["--budget-chars", "400", log_path])
    assert cli.SECTION_NOTE.format(section="step_script") in out
    assert "[step_script]" in out
    assert cli.WINDOW_GAP in out


def test_cli_module_runs_as_a_script():
    proc = subprocess.run([sys.executable, "-m", "bot.cli.excerpt", "--help"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0
    assert "--budget-chars" in proc.stdout and "--json" in proc.stdout


# --- the labelled data set -----------------------------------------------------------
@pytest.fixture(scope="module")
def logchunks_full_8000() -> tuple[float, str]:
    data = shared_dataset()
    if data is None:
        pytest.skip("the LogChunks data set (../shared) is not here")
    cmd = f"{sys.executable} -m bot.cli.excerpt --json --budget-chars {{budget}}"
    proc = subprocess.run(
        [sys.executable, str(data / "score.py"), "--cmd", cmd, "--batch", "100", "--budget-chars", "8000"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = proc.stdout.strip().splitlines()[-1]
    return float(summary.split(" full ")[1].split()[0]), summary


@pytest.mark.timeout(600)
def test_logchunks_beats_the_tail_at_8000_chars(logchunks_full_8000):
    full, summary = logchunks_full_8000
    tail = float(summary.split("(tail ")[1].split(")")[0])
    assert full >= 0.90 and full > tail + 0.25, summary  # 0.907 today, the tail 0.630


@pytest.mark.timeout(600)
def test_logchunks_full_at_8000_chars(logchunks_full_8000):
    full, summary = logchunks_full_8000
    assert full >= 0.90, summary
