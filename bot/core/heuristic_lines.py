"""One log line as the offline analyzer reads it (pure): its words without the runner's prefixes, and whether it
only says that something failed (a wrapper) or states a failure itself."""

from __future__ import annotations

import re

from bot.core.excerpt.ci_systems import COMMAND_ECHO, marked_failure, strip_prefix, xtrace_echoes
from bot.core.excerpt.rules import (
    CLEANUP_SECTIONS,
    COMMAND_STARTS,
    MEDIUM,
    STRONG,
    is_exit_line,
    is_wrapper,
    score_line,
)
from bot.core.heuristic_formats import (
    ECHO,
    LINT,
    NOISE,
    RUNNER_PREAMBLE,
    STEP_ECHO_END,
    STEP_ECHO_START,
    TASK_PREFIX,
    TIMING,
    TOOL_FAILURE,
    WRAPPER,
)
from bot.core.types import Excerpt, ExcerptLine

# A resource of the machine the job ran out of: the errors printed after it are often only what it did.
EXHAUSTED = re.compile(r"(?i)\b(?:no space left on device|disk quota exceeded|too many open files)\b")
# A warning's level before the words ("ccache: warning: failed to write stats: No space left on device"): the tool
# reports it as a warning and went on, not as its error.
WARNED = re.compile(r"(?i)\bwarn(?:ing)?\b")
# A command that handles its own failure, as its echo shows: a fallback (`x || true`, `x || echo "skipped"`), a retry
# loop that stops at its first success (`for i in 1 2 3; do x && break; done`, `until x; do sleep 5; done`).
HANDLED = re.compile(r"\|\||&&\s*break\b|\buntil\s")
# `set -x`'s echo of a fallback run because the command before it failed (`x || true` traces `+ x`, then `+ true`).
FALLBACK = re.compile(r"^\++ (?:true|:)\s*$")
# GitLab Runner's line before the after_script's commands: they run whether the script failed or not.
AFTER_SCRIPT = re.compile(r"^Running after_script\b")
# A timestamp the runner puts before every line (GitHub Actions, GitLab's FF_TIMESTAMPS): not the tool's words.
# `gh run view --log` puts the job's and the step's names before it, tab-separated.
STAMP = re.compile(
    r"^(?:[^\t\n]{1,100}\t[^\t\n]{1,100}\t)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z(?: \d\d[OE]\+?)?(?: |$)"
)
# A level tag before the tool's words (Maven's "[ERROR] ", GitHub's "##[error]", sbt's "[info]"): the headline says it failed already.
PREFIX = re.compile(
    r"^#\d+ (?:\d+\.\d+ )?|^\.{3,}(?=\S)|^[>E]\s{2,}(?=\S)|^(?:##)?\[(?:ERROR|error|FATAL|fatal|info)\]\s*(?=\S)|"
    # a code frame's gutter and carets before the label that says what is wrong there (rustc, Elm)
    r"^\|\s*[\^~-]+\s+(?=\S)|"
    # shellcheck's marker under the code it points at ("^--------^ SC2086 (info): ...")
    r"^\^-*\^?\s+(?=SC\d{4}\b)|"
    # valgrind's process id on every line ("==12345== "), Credo's box around its issues ("┃ [W] ↗ ...")
    r"^==\d+==\s+(?=\S)|^┃\s*"
)
BUILDKIT = re.compile(r"^#\d+ (?:\d+\.\d+ )?")
# A logger's fields before its level (`[2024-04-12 10:00:44] [deploy] [ERROR] x`, `2024-03-11 09:14:52,381 ERROR x`): the
# time and the component are not the words; the level and the message are.
LOGGED = re.compile(
    r"^(?:\[(?!(?i:info|debug|trace|warn|warning|notice)\])[^\]]{1,40}\]\s*|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\s+)+"
    r"(?=\[?(?:ERROR|FATAL|CRITICAL)\b)"
)
# A title drawn between rules of one character (pytest's "_____ ERROR collecting x.py _____", testthat's "── Failure
# (x.R:12:3): name ──────"): the title's words.
RULED = re.compile(r"^([_=─━])\1{2,} (.+?) \1{3,}$")
# A log level in brackets before a line (Maven's "[ERROR] ", "[INFO] "): what follows is the tool's statement.
LEVEL = re.compile(r"^\s*\[(?:ERROR|FATAL|WARN|WARNING|INFO)\]\s*")


def clean(text: str) -> str:
    """A log line as a sentence shows it: no BuildKit progress prefix, no runs of spaces."""
    text = re.sub(r"\s+", " ", TIMING.sub("", PREFIX.sub("", bare(text).strip()))).strip()
    return RULED.sub(r"\2", text)


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters of a line, cut at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:—-") + "…"


def bare(text: str) -> str:
    """A log line without the runner's timestamp prefix, another CI system's step prefix, nor a monorepo runner's
    package prefix (TASK_PREFIX); a CI system's error marker as the words it carries."""
    if text[:1].isdigit() or "\t" in text[:200]:
        text = STAMP.sub("", text, count=1)
    if text[:1] in "S[#":
        # Another CI system's step prefix (Cloud Build's `Step #2 - "test": `, CodeBuild's `[Container] <time> `),
        # and its error marker's words (`##vso[task.logissue type=error]message`, TeamCity's testFailed).
        text = strip_prefix(text)
        text = marked_failure(text) or text
    return TASK_PREFIX.sub("", text, count=1) if text[:1] == "@" or text[:1].islower() else text


def repeats_start(above: str, text: str) -> bool:
    """Whether text only repeats the start of the line above it, in whole words (`404` under `404 Not Found`; not
    `left-pad@1.3.1` under `left-pad@1.3.10`)."""
    return above.startswith(text) and not (above[len(text) : len(text) + 1].isalnum() and text[-1:].isalnum())


def is_wrapper_line(text: str) -> bool:
    """True for a line that says something failed and points elsewhere for why."""
    text = bare(text)
    # BuildKit's progress prefix ("#6 2.441 "): the words of the tool that ran in the image step follow it.
    words = LEVEL.sub("", BUILDKIT.sub("", text, count=1), count=1)
    if not words.strip():
        return words != text  # a level tag alone ("[ERROR]"): Maven's spacer between its advice
    return is_wrapper(text) or is_exit_line(text) or bool(WRAPPER.search(words))


def failure_score(text: str) -> float:
    """How error-like a line's own words are: scored without a prefix the scanner reads as part of the words (BuildKit's
    step and time, `#6 2.301 `, before what the step's command printed; a monorepo runner's package)."""
    text = TASK_PREFIX.sub("", text, count=1)
    # (the first character tells whether a prefix can be there: most lines are scored as they are)
    if text[:1] == "#":
        text = BUILDKIT.sub("", text, count=1)
    elif text[:1] == "[" or text[:1].isdigit():
        text = LOGGED.sub("", text, count=1)
    return score_line(text)


def is_failure_line(text: str, minimum: float = MEDIUM) -> bool:
    if LINT.match(bare(text)) or TOOL_FAILURE.search(bare(text)):
        return True
    return (
        bool(text.strip())
        and not ECHO.match(bare(text))
        and not is_wrapper_line(text)
        and failure_score(text) >= minimum
    )


def is_command_echo(text: str) -> bool:
    """Whether a line is the runner's echo of a script's command (`$ cmd`, GitHub Actions' `##[group]Run cmd`,
    CodeBuild's `Running command cmd`)."""
    text = bare(text)
    return text.startswith(COMMAND_STARTS) or (COMMAND_ECHO.match(text) is not None)


def command_echoes(lines: tuple[ExcerptLine, ...] | list[ExcerptLine]) -> set[int]:
    """The numbers of the lines that echo a command: is_command_echo(), and `set -x`'s `+ cmd` where the log shows
    xtrace (not a diff's added line)."""
    return {ln.n for ln in lines if is_command_echo(ln.text)} | xtrace_echoes([(ln.n, bare(ln.text)) for ln in lines])


# A unified diff's first file header (`diff --git a/x b/x`, else `+++ b/x`).
DIFF_HEADER = re.compile(r"^diff --git a/\S|^\+\+\+ (?:b/)?[\w./-]+\S*(?:\s|$)")


def diffed(lines: list[ExcerptLine]) -> ExcerptLine | None:
    """The first file header of a unified diff that the last command echoed printed: a check that fails on a
    difference and prints only the diff (`git diff --exit-code` after code generation, a formatter's `--diff`)."""
    echoes = command_echoes(lines)
    start = max((k for k, ln in enumerate(lines) if ln.n in echoes), default=-1) + 1
    return next((ln for ln in lines[start:] if DIFF_HEADER.match(bare(ln.text))), None)


def ran_out(line: ExcerptLine) -> bool:
    """Whether a line reports that the job ran out of disk, quota or file handles, as an error (not a test's name
    that says so, not a warning, nor in a clean-up step)."""
    m = EXHAUSTED.search(line.text)
    return (
        m is not None
        and not WARNED.search(line.text, 0, m.start())
        and score_line(line.text) >= STRONG
        and not (line.section and CLEANUP_SECTIONS.search(line.section))
    )


def ran_out_before(lines: tuple[ExcerptLine, ...], head: ExcerptLine) -> ExcerptLine | None:
    """The first line above `head` that ran_out(), unless a command that handled its own failure printed it and the
    job went on to another command (a runner's echo, `$ cmd`, `##[group]Run cmd`, between them): `cmd || true`, a
    fallback, a retry loop that stops at its first success. Its full disk was allowed for, not what stopped the job."""
    found: ExcerptLine | None = None
    echo, found_handled = "", False
    echoes = command_echoes(lines)
    for line in lines:
        if line.n >= head.n:
            break
        text = bare(line.text)
        if AFTER_SCRIPT.match(text):
            break  # the after_script runs after a failed script too: not the job going on
        if line.n in echoes:
            if found is not None and (found_handled or FALLBACK.match(text)):
                found = None
            echo = text
        # The words of the command echoed above it (`$ echo "clean ~/.cache on 'Disk quota exceeded'"`) are the
        # script's, printed by that command: not a report that the disk is full.
        elif found is None and ran_out(line) and text.strip() not in echo:
            found, found_handled = line, HANDLED.search(echo) is not None
    return found


def went_on_after(excerpt: Excerpt, line: ExcerptLine) -> Excerpt | None:
    """When a command that handled its own failure (HANDLED: `pip-audit || true`, a retry loop) printed `line` and
    the job went on to another command (a runner's echo below it): the excerpt from that echo on, where the job's own
    failure is. None otherwise."""
    echoes = command_echoes(excerpt.lines)
    echo = next((ln for ln in reversed(excerpt.lines) if ln.n < line.n and ln.n in echoes), None)
    later = next((ln for ln in excerpt.lines if ln.n > line.n and _next_command(ln, echoes)), None)
    handled = echo is not None and (
        HANDLED.search(bare(echo.text)) or FALLBACK.match(bare(later.text) if later else "")
    )
    if echo is None or later is None or AFTER_SCRIPT.match(bare(later.text)) or not handled:
        return None
    return part(excerpt, later.n, None)


def _next_command(line: ExcerptLine, echoes: set[int]) -> bool:
    """Whether the line is the runner's echo of a command (`echoes`: command_echoes()), or the after_script's line
    (its commands run after a failed script too: the search for the script's next command ends there)."""
    return line.n in echoes or AFTER_SCRIPT.match(bare(line.text)) is not None


def before_after_script(excerpt: Excerpt, line: ExcerptLine) -> Excerpt | None:
    """When `line` was printed by the after_script: the excerpt above the after_script's first line, where the job's
    own failure is (GitLab runs after_script whatever the script did, and its exit status does not fail the job:
    a clean-up that then fails for want of the script's output is not why the job failed). None otherwise."""
    start = next((ln for ln in reversed(excerpt.lines) if ln.n < line.n and AFTER_SCRIPT.match(bare(ln.text))), None)
    return None if start is None else part(excerpt, 0, start.n)


def part(excerpt: Excerpt, first: int, end: int | None) -> Excerpt:
    """The excerpt's lines numbered first..end-1 (end None: to the last), with its lead when the lead is among them."""

    def inside(n: int) -> bool:
        return first <= n and (end is None or n < end)

    lead = excerpt.lead if excerpt.lead is not None and inside(excerpt.lead[0]) and inside(excerpt.lead[1]) else None
    lines = [ln for ln in excerpt.lines if inside(ln.n)]
    return Excerpt(lines, excerpt.total_lines, excerpt.failed_section, excerpt.bytes_read, excerpt.truncated, lead)


_ANY = re.compile("")  # the next line, whatever it is


def last_words(output: list[ExcerptLine], paragraph: int) -> ExcerptLine | None:
    """A command's last words: the first line of the last paragraph (at most `paragraph` lines) it printed (its
    output in the excerpt, without `set -x` traces and noise), when it printed no failure line."""
    said = []
    echo_ends: re.Pattern[str] | None = None  # inside a CI system's echo of the step: until a line like this
    for i, line in enumerate(output):
        if STEP_ECHO_START.match(bare(line.text)):
            break
        if STEP_ECHO_END.match(bare(line.text)):  # the output starts inside the step's echo (its `Run` line above)
            output = output[i + 1 :]
            break
    for line in output:
        text = bare(line.text)
        if echo_ends is not None:
            if echo_ends.match(text):
                echo_ends = None
            continue
        if STEP_ECHO_START.match(text):
            # CircleCI prints the step's command under its shebang and the output right under it: one line is the
            # command (a multi-line command's other lines are read as output, as before)
            echo_ends = STEP_ECHO_END if text.startswith("##[") else _ANY
            continue
        if text.strip() and not ECHO.match(text) and not RUNNER_PREAMBLE.match(text) and not NOISE.search(line.text):
            said.append(line)
    if not said:
        return None
    k = len(said) - 1
    while k > 0 and said[k - 1].n == said[k].n - 1 and said[-1].n - said[k - 1].n < paragraph:
        k -= 1
    return said[k]


def failing_command_echo(lines: list[ExcerptLine], j: int) -> int:
    """The index of the runner's echo of the command that printed lines[j], or -1. A runner that stops at the first
    failing command (GitLab, GitHub Actions) echoed the failing one last; the after_script's echoes are not the
    script's. A script's own `set -x` trace is not the runner's: the script may have gone on after a failure."""
    start = next((k for k in range(j, -1, -1) if AFTER_SCRIPT.match(bare(lines[k].text))), None)
    if start is not None:
        j = start - 1
    return next((k for k in range(j, -1, -1) if is_command_echo(lines[k].text)), -1)


# A test runner's line that opens or closes one test's output: Go's `=== RUN`/`--- PASS:`, Jest's and Vitest's
# per-file `PASS x`/`FAIL x` headers.
GO_TEST_END = re.compile(r"^\s*(?:=== RUN|--- (?:PASS|FAIL|SKIP):)\s")
FILE_VERDICT = re.compile(r"^\s*(PASS|FAIL) \S+\.\w+(?:\s+\([\d.]+ ?m?s\))?\s*$")
# A verdict printed under what its unit printed: `go test` without -v prints a package's output above the package's
# `ok  \tpkg\t0.3s` / `FAIL\tpkg\t0.3s`; unittest -v prints a test's output between its `test_x (m.C) ... ` and its
# `ok` / `FAIL` / `ERROR`.
UNIT_VERDICT = re.compile(
    r"^(?:(?P<ok>ok)|FAIL)\s+\S+\s+(?:[\d.]+m?s|\(cached\))\s*$|^(?:(?P<ok2>ok)|FAIL|ERROR)\s*$|"
    r"\s\.\.\. (?:(?P<ok3>ok)|FAIL|ERROR)\s*$"
)


# Playwright's closing summary: a count over the tests it lists ("  1 flaky" over tests that passed on a retry,
# "  1 failed" over those that failed).
SUMMARY_COUNT = re.compile(r"^\s*\d+ (?P<kind>flaky|failed|passed|skipped|did not run|interrupted)\b")


# Maven Surefire's (and Failsafe's) block for one test class: `Running x.YTest` (3.x: `[INFO] Running x.YTest`) over
# what the class printed, closed by its tally (`Tests run: 6, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: ...`).
SUREFIRE_CLASS = re.compile(r"^(?:\[INFO\] )?Running [\w.$]+\s*$")
SUREFIRE_TALLY = re.compile(
    r"^(?:\[\w+\] )?Tests run: \d+, Failures: (\d+), Errors: (\d+)(?:, Skipped: \d+)?, Time elapsed"
)


def _surefire_passed(lines: list[ExcerptLine], k: int) -> bool:
    """Whether lines[k] was printed by a test class whose Surefire tally, right under its output, counts no failure
    or error (a passing test's logged `ERROR ... ConnectException` and its stack trace)."""
    above = next((j for j in range(k - 1, -1, -1) if SUREFIRE_CLASS.match(bare(lines[j].text))), None)
    if above is None or SUREFIRE_TALLY.match(bare(lines[k].text)):
        return False
    for ln in lines[above + 1 :]:
        if SUREFIRE_CLASS.match(bare(ln.text)):
            return False
        if (m := SUREFIRE_TALLY.match(bare(ln.text))) is not None:
            return ln.n > lines[k].n and m.group(1) == m.group(2) == "0"
    return False


def passing_output(lines: list[ExcerptLine], line: ExcerptLine) -> bool:
    """Whether `line` is output of a test that passed: under `go test -v`, printed before the `--- PASS:` that ends
    its test; under Jest or Vitest, printed under a `PASS file` header; under Playwright's `N flaky` count; in a
    Surefire class block whose tally counts no failure; in a BuildKit step that printed `#N DONE`."""
    k = lines.index(line)
    text = bare(line.text)
    if _step_done(lines, k):
        return True
    if _surefire_passed(lines, k):
        return True
    count = next((m for ln in reversed(lines[:k]) if (m := SUMMARY_COUNT.match(bare(ln.text)))), None)
    if count is not None and count.group("kind") == "flaky" and not SUMMARY_COUNT.match(text):
        return True
    if GO_TEST_END.match(text) or FILE_VERDICT.match(text):
        return False
    after = next((bare(ln.text) for ln in lines[k + 1 :] if GO_TEST_END.match(bare(ln.text))), "")
    if after.lstrip().startswith("--- PASS:"):
        return True
    header = next((m for ln in reversed(lines[:k]) if (m := FILE_VERDICT.match(bare(ln.text)))), None)
    if header is not None:
        return header.group(1) == "PASS"
    return _unit_passed(lines, k)


# BuildKit's plain progress: every line of step N starts `#N `; `#N DONE 1.2s` closes a step that succeeded.
BUILDKIT_STEP = re.compile(r"^#(\d+) ")


def _step_done(lines: list[ExcerptLine], k: int) -> bool:
    """Whether lines[k] is output of a BuildKit step that closed with `#N DONE` (its warnings did not fail it)."""
    step = BUILDKIT_STEP.match(bare(lines[k].text))
    if step is None:
        return False
    done = f"#{step.group(1)} DONE"
    return any(bare(ln.text).startswith(done) for ln in lines[k + 1 :])


def _unit_passed(lines: list[ExcerptLine], k: int) -> bool:
    """Whether the verdict that ends lines[k]'s unit (a Go package, a unittest test) says it passed: its logged
    `ERROR: upstream returned 503` is then not why the run failed. A runner's echo or a test's own verdict
    (`--- FAIL:`) first ends the search."""
    if UNIT_VERDICT.search(bare(lines[k].text)):
        return False
    for ln in lines[k + 1 :]:
        text = bare(ln.text)
        if ECHO.match(text) or GO_TEST_END.match(text):
            return False
        if (m := UNIT_VERDICT.search(text)) is not None:
            return bool(m.group("ok") or m.group("ok2") or m.group("ok3"))
    return False
