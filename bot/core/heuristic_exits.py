"""The failing command's exit status, the failing build step and the failing test, as the log prints them (pure):
the offline analyzer's facts about what ran and how it ended."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.excerpt.ci_systems import EXIT_COMMAND as CI_EXIT_COMMAND
from bot.core.excerpt.ci_systems import RUNNER_EXIT as CI_RUNNER_EXIT
from bot.core.excerpt.rules import NEXT_TEST, is_exit_line
from bot.core.heuristic_formats import TEST_ID
from bot.core.heuristic_lines import AFTER_SCRIPT, bare, command_echoes, is_wrapper_line
from bot.core.types import Excerpt, ExcerptLine

# The failing command's exit status, as printed; the runner's "Job failed: exit code 1" comes last.
EXIT_CODE = re.compile(
    r"(?i)(?:exit(?:ed)? (?:with )?(?:code|status|value)[: ]*'?|exited with (?:non-zero status: )?|"
    r"returned a non-zero code: |\bError )(?P<code>\d{1,3})\b"
)
# Docker's shell form runs a RUN step as `/bin/sh -c <command>`: the command is what the Dockerfile says.
COMMAND = re.compile(
    r"(?:The command|process) \"(?:/bin/(?:ba)?sh -c )?(?P<cmd>[^\"]{1,120})\"|^\s*\$ (?P<cmd2>.{1,120})$|"
    + CI_EXIT_COMMAND.pattern[1:]
)
# The step a build tool says failed, as it names it (a Gradle task, a make target, a Maven goal).
STEP = re.compile(
    r"Execution failed for task '(?P<task>[^']{1,100})'|^> Task (?P<task2>:\S{1,100}) FAILED|"
    r"make(?:\[\d+\])?: \*\*\* \[(?:[^\]:\s]+:\d+: )?(?P<target>[^\]]{1,100})\] Error \d+|"
    r"Failed to execute goal (?P<goal>[\w.-]+:[\w.:-]+(?: \([\w.-]+\))?)"
)
MAVEN_GROUP = re.compile(r"^[\w.-]+:(?=[\w.-]+:[\w.-]+:)")
TIMEOUT_EXIT = 124  # GNU coreutils' `timeout`: the command it ran was out of time
# A command run by `timeout` (`timeout 10m pytest`, `sudo timeout -k 10s 5m x`, `$TIMEOUT 35m build.sh`): other
# commands exit 124 too (xargs when its command exited 255, a script's own status), and an option's name
# (`pytest --timeout 30`) is not the command.
TIMEOUT_COMMAND = re.compile(r"(?:^|[\s;&|(])(?:g?timeout|\$\{?TIMEOUT\}?)\s")
TEST_NEAR = 50  # lines between a test's name and its error in one report
RUNNER_EXIT = re.compile(
    r"(?i)ERROR: Job failed|Your build exited with|Process completed with exit code|(?-i:"
    + CI_RUNNER_EXIT.pattern
    + ")"
)


@dataclass(frozen=True, slots=True)
class Exit:
    code: int
    line: ExcerptLine
    command: str = ""


def failing_exit(excerpt: Excerpt, after: int = 0) -> Exit | None:
    """The first exit status printed at or after line `after`, preferring a command's own to the runner's."""
    found: list[Exit] = []
    for _k, line in enumerate(excerpt.lines):
        if line.n < after:
            continue
        m = EXIT_CODE.search(line.text)
        if not m or not (is_exit_line(line.text) or is_wrapper_line(line.text)) or int(m.group("code")) == 0:
            continue
        cmd = COMMAND.search(bare(line.text))
        command = (cmd.group("cmd") or cmd.group("cmd3") or "") if cmd else ""
        found.append(Exit(int(m.group("code")), line, command))
    own = [e for e in found if not RUNNER_EXIT.search(bare(e.line.text))]
    named = [e for e in own if e.command]
    return (named or own or found or [None])[0]


def lead_exit(lines: list[ExcerptLine], first: int, last: int) -> ExcerptLine | None:
    """The lead's own exit line (`The command "x" exited with 1.`), which at least names the command."""
    return next(
        (ln for ln in lines if first <= ln.n <= last and is_wrapper_line(ln.text) and not RUNNER_EXIT.search(ln.text)),
        None,
    )


def failing_step(excerpt: Excerpt, after: int = 0) -> tuple[str, ExcerptLine | None]:
    """The first build step a tool says failed at or after line `after` (else anywhere), and its line."""
    for lines in ([ln for ln in excerpt.lines if ln.n >= after], excerpt.lines):
        for line in lines:
            m = STEP.search(bare(line.text))
            if m:
                if m.group("goal"):
                    # A Maven goal without its plugin's group id: `maven-surefire-plugin:3.0.0:test (default-test)`.
                    return MAVEN_GROUP.sub("", m.group("goal")), line
                return next(g for g in m.groups() if g), line
    return "", None


def timed_out(excerpt: Excerpt) -> tuple[ExcerptLine, Exit] | None:
    """When the failing command was stopped by `timeout` (exit status 124): the line that names it (the exit line,
    else the command's echo above the runner's "exit code 124"), and the exit."""
    exit_ = failing_exit(excerpt)
    if exit_ is None or exit_.code != TIMEOUT_EXIT:
        return None
    if exit_.command:
        return (exit_.line, exit_) if TIMEOUT_COMMAND.search(exit_.command) else None
    echo: ExcerptLine | None = None
    echoes = command_echoes(excerpt.lines)
    for line in excerpt.lines:
        text = bare(line.text)
        if line.n >= exit_.line.n or AFTER_SCRIPT.match(text):
            break
        if line.n in echoes:
            echo = line
    return (echo, exit_) if echo is not None and TIMEOUT_COMMAND.search(bare(echo.text)) else None


def failing_test(excerpt: Excerpt, near: int | None = None) -> str:
    """The failing test the excerpt names, as the runner names it; '' when none. With `near`, the one named
    nearest that line within TEST_NEAR lines (a test named elsewhere is another failure, not this one's)."""
    return failing_test_line(excerpt, near)[0]


def failing_test_line(excerpt: Excerpt, near: int | None = None) -> tuple[str, ExcerptLine | None]:
    """failing_test() and the line that names the test."""
    found = [(line, m) for line in excerpt.lines if (m := TEST_ID.search(line.text))]
    if near is not None:
        found = sorted(
            ((line, m) for line, m in found if abs(line.n - near) <= TEST_NEAR), key=lambda f: abs(f[0].n - near)
        )
    if not found:
        return "", None
    return next((g for g in found[0][1].groups() if g), "").strip(), found[0][0]


# go test's verdict on a test, and the lines its `t.Error`/`t.Fatal` print (`    loader_test.go:88: message`). With
# `-v` they are printed in the test's output, above the verdict; without, under it.
GO_VERDICT = re.compile(r"^--- FAIL: (?P<test>[\w/.#-]+)")
GO_TEST_LOG = re.compile(r"^\s+[\w.-]+_test\.go:\d+: \S")
GO_OUTPUT_LINES = 200  # how far above its verdict a test's output may start (table tests print a lot)


def go_reason_above(lines: tuple[ExcerptLine, ...] | list[ExcerptLine], verdict: ExcerptLine) -> ExcerptLine | None:
    """For go test's `--- FAIL: TestX` with nothing of its own under it, the last line TestX (or one of its subtests)
    logged above it (`go test -v`): what failed, where the verdict only names the test. None when there is none, or
    another test's verdict or a command comes first."""
    match = GO_VERDICT.match(bare(verdict.text))
    if match is None or verdict not in lines:
        return None
    k = list(lines).index(verdict)
    under = lines[k + 1] if k + 1 < len(lines) else None
    if under is not None and under.n == verdict.n + 1 and GO_TEST_LOG.match(bare(under.text)):
        return None  # plain `go test`: the reason is printed under the verdict, which heads it
    test = match.group("test").split("/")[0]
    for line in reversed(lines[:k]):
        text = bare(line.text)
        if verdict.n - line.n > GO_OUTPUT_LINES or text.startswith(("$ ", "--- FAIL: ", "--- PASS: ", "ok ", "FAIL")):
            return None
        if GO_TEST_LOG.match(text):
            return line
        run = NEXT_TEST.match(text)
        if run and text.split()[-1].split("/")[0] != test and text.startswith("=== RUN"):
            return None  # another test's output
    return None
