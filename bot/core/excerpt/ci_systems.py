"""Other CI systems' framing (Jenkins, CircleCI, Buildkite, Azure Pipelines, TeamCity, CodeBuild, Cloud Build) (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import islice

# A prefix a CI system puts before some lines, not the tool's words: Google Cloud Build's step name before every
# line a step prints (`Step #2 - "test": `), AWS CodeBuild's agent stamp before its own lines (`[Container]
# 2026/12/09 10:20:11.123456 `).
STEP_PREFIX = re.compile(
    r'^(?:Step #\d{1,3}(?: - "[^"\n]{0,100}")?:(?: |$)|\[Container\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d{1,9})? )'
)
_PREFIX_STARTS = ("Step #", "[Container] ")
# Jenkins' `parallel` step puts the branch's name in brackets before every line a branch prints (`[unit] + make
# test`), as its plugins do before their own lines (`[WS-CLEANUP] Deleting ...`). A tool's level in brackets
# (`[ERROR]`, sbt's `[error]`, `[Pipeline]`) is the tool's own word, not a prefix.
BRANCH_PREFIX = re.compile(
    r"^\[(?!(?i:info|warn|warning|error|err|errors|debug|trace|fatal|fail|failed|failure|pass|passed|ok|success|"
    r"successful|notice|critical|severe|note|skip|skipped|pending|todo|done|abort|aborted|exception|alert|emerg|"
    r"verbose|log|errno|Pipeline)\])[A-Za-z][\w .:/@+-]{0,40}\] "
)
# The source a monorepo runner or a workflow engine names before every line it relays from a task: Turborepo's
# `<package>:<task>: ` (`web:test: `, `@acme/web:build: `), pnpm's recursive run `<dir> <script>: ` (`apps/web test: `),
# and `argo logs`' `<pod>: ` (a workflow's pod, named with its numeric id: `ci-x7k2p-1840214791: `). A log level or a
# file's place is the tool's own word, not a source (`ERROR:root: `, `a.py:12: `).
SOURCE_PREFIX = re.compile(
    r"^(?!(?i:error|err|warning|warn|info|debug|trace|fatal|note|notice|critical|severe|fail|failed|failure)[:\s])"
    r"(?:(?:@[\w.-]+/)?[\w.-]+:[a-z][\w-]*(?::[a-z][\w-]*)*|[\w.@-]+(?:/[\w.@-]+)+ [a-z][\w:.-]*"
    r"|[a-z0-9][a-z0-9.-]{0,200}-\d{6,10}): "
)
SOURCE_PREFIX_CHARS = 260  # a source is named within this many characters of a line's start
# docker compose's service name before every line a service prints (`api-1  | ...`, `db_1 | ...`): `up` and `logs`
# print the services' own logs that way, often after a failure.
SERVICE_PREFIX = re.compile(r"^[a-z][\w.-]{0,40} *\| ")

# The systems' own lines around a step's output: what the runner did, never the tool's words (a failure's detail
# ends at them, and they are not failure lines whatever words they hold).
FRAMING = re.compile(
    # Jenkins Pipeline's steps and braces, and a stage it skipped after a failure
    r"^\[Pipeline\] |^Stage \"[^\"]*\" skipped due to earlier failure|"
    # Azure Pipelines' task sections and command lines (GitHub Actions shares `##[command]`)
    r"^##\[(?:section|command|group|endgroup)\]|^##vso\[task\.complete\b|"
    # Buildkite's agent groups (`~~~ Running commands`) and the line that opens the group above (`^^^ +++`)
    r"^~~~ \S|^\^\^\^ \+\+\+\s*$|"
    # AWS CodeBuild's phases (after its prefix)
    r"^(?:Entering phase |Phase complete: |Phase context status code: |Waiting for (?:agent ping|DOWNLOAD_SOURCE)|"
    r"Phase is [A-Z_]+\s*$)|"
    # Google Cloud Build's steps and stages
    r"^(?:Starting|Finished) Step #\d+|^(?:FETCHSOURCE|BUILD|PUSH|DONE|ERROR)\s*$|"
    # TeamCity's step header and the command line runner's start (after its prefix)
    r"^Step \d+/\d+: \S|^(?:Starting|in directory): /|"
    # TeamCity's service messages other than its error markers (a test started or finished, a block opened)
    r"^##teamcity\["
)

# The systems' lines that say the step or the build ended with a failure status, and point above for why.
EXIT = re.compile(
    r"^(?:ERROR: )?script returned exit code [1-9]|^Exited with code (?:exit status )?[1-9]|"
    r"^CircleCI received exit code [1-9]|(?:^|\s)Error: The command exited with status [1-9]|"
    r"^user command error: exit status [1-9]|^(?:##\[error\])?\w+ exited with code '[1-9]|"
    r"^Process exited with code [1-9]|^Step .+ \([^)]+\) failed\s*$|"
    r"^Command did not exit successfully .+ exit status [1-9]|^Phase complete: \w+ State: FAILED|"
    r"^Phase context status code: \w*ERROR\b|"
    r"^ERROR: build step \d+ \"[^\"]*\" failed: |^##vso\[task\.complete result=Failed|"
    # Jenkins' `parallel` step after a branch failed
    r"^Failed in branch \S"
)
# Where a step's output begins on systems that echo no `$ command`: Azure Pipelines' `##[command]<the script>`,
# CircleCI's shebang over the step's command (`#!/bin/bash -eo pipefail`), Jenkins Pipeline's `[Pipeline] sh`,
# CodeBuild's `Running command X` (after its prefix).
STEP_START = re.compile(r"^(?:##\[command\]\S|#!/bin/(?:ba|z)?sh\b|\[Pipeline\] sh\s*$|Running command \S)")
# A command that prints other programs' logs or state (`docker compose logs`, `kubectl logs`, `journalctl`, `kubectl
# describe`, `kubectl get events`), run to show why something failed: the services' errors it prints are theirs, and
# it is not the step that failed.
LOG_DUMP = re.compile(
    r"^(?:\$ |\+{1,3} |##\[group\]Run )?(?:sudo )?(?:docker(?:-compose| compose)?|kubectl|podman(?:-compose)?)"
    r"(?: (?!logs\b)\S+)* logs\b|^(?:\$ |\+{1,3} )?(?:sudo )?journalctl\b"
    r"|^(?:\$ |\+{1,3} )?kubectl(?: -{1,2}\S+(?: (?!describe\b|get\b)[^-\s]\S*)?)* (?:describe|get events)\b"
)
# Where a phase begins that runs after a failure, not the step that failed: Jenkins' declarative `post` section.
POST_START = re.compile(r"^\[Pipeline\] \{ \(Declarative: Post Actions\)")
# The same starts in raw bytes, for the scanner, each led by a literal that the regex engine scans for fast (an
# alternation of different first characters is tried at every byte): the `#` ones, Jenkins', CodeBuild's.
# Their literal parts, to see whether a log shows any at all (a substring test is far faster than a regex search).
STEP_START_WORDS = (b"##[command]", b"#!/bin/", b"[Pipeline] ", b"Running command ")
STEP_START_BYTES = (
    re.compile(rb"#(?:#\[command\]|!/bin/)"),
    re.compile(rb"\[Pipeline\] (?:sh|\{ \(Declarative: Post)"),
    re.compile(rb"Running command "),
)
# Of those, the ones that name no command: the command's own exit line is preferred over them.
RUNNER_EXIT = re.compile(
    r"script returned exit code|Exited with code|CircleCI received exit code|Error: The command exited with status|"
    r"user command error:|^(?:##\[error\])?\w+ exited with code '|^Process exited with code|^Step .+ \([^)]+\) failed\s*$|"
    r"Phase complete: |Phase context status code: |task\.complete result=|"
    r"^Build step '.*' marked build as failure|^Finished: FAILURE|^Failed in branch "
)
# The command a system names in its exit line (CodeBuild's "Command did not exit successfully X exit status 1").
EXIT_COMMAND = re.compile(r"^Command did not exit successfully (?P<cmd3>.{1,120}?) exit status \d+\s*$")
# How a system echoes a command before its output: CodeBuild's "Running command X".
COMMAND_ECHO = re.compile(r"^Running command \S")

# A failure a system's marker states in the tool's words: Azure Pipelines' logging command `##vso[task.logissue
# type=error;...]message`, TeamCity's service messages for a failed test, a build problem and an error message.
_LOGISSUE = re.compile(r"^##vso\[task\.logissue\s+type=error\b[^\]]*\](?P<msg>.*)$")
_TEAMCITY = re.compile(r"^##teamcity\[(?P<kind>testFailed|buildProblem|message)\s(?P<attrs>.*)\]\s*$")
_ATTR = re.compile(r"(\w+)='((?:[^'|]|\|.)*)'")
_UNESCAPE = {"n": " ", "r": "", "'": "'", "|": "|", "[": "[", "]": "]"}


# A command as `set -x` echoes it (`+ make test`, `++ git rev-parse HEAD`), as Jenkins' sh step, Bitbucket Pipelines,
# Drone and Woodpecker print their commands. A unified diff's added line has the same shape inside a hunk.
XTRACE = re.compile(r"^\+{1,3} (?:[A-Za-z_]\w*=\S*\s+)*[a-z_./$][\w./${}-]*(?:\s|$)")
# A diff's file header or hunk header: the lines under them that start with a space, `+` or `-` are its content.
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@|^diff --git |^--- (?:a/|/dev/null|\S+\t)")
_IN_HUNK = re.compile(r"^(?:[ +-]|\\ No newline|$)")
# A log that shows its commands' xtrace: a shell run with -x (Jenkins' freestyle step), Jenkins Pipeline's sh step.
_TRACED = re.compile(r"\bsh -x|\bset -x|^\[Pipeline\] sh\s*$")
XTRACE_SHOWN = 2  # xtrace echoes outside diffs that show a log prints them, without a line that says so
# A command of the traced script itself, as bash's default PS4 (`+ `) or a PS4 naming the place (`+(deploy.sh:12): `)
# echoes it: where the command's output starts on a system that echoes no command of its own (Drone and Woodpecker
# run the script traced; Tekton and Argo steps and Jenkins' sh step usually do). `++ cmd` is a command run inside
# another's expansion (`$(git rev-parse HEAD)`): part of the enclosing command's step.
XTRACE_STEP = re.compile(r"^\+(?: |\([^()\n]{1,200}\): )(?:[A-Za-z_]\w*=\S*\s+)*'?[a-z_./$\[][\w./${}\[\]-]*'?(?:\s|$)")
# Where to look for one in raw bytes: a `+` then a space or a parenthesis (a literal the regex engine scans for).
XTRACE_BYTES = re.compile(rb"\+[ (]")
XTRACE_LOOK_BACK = 40  # lines above an echo looked at to see it is a diff's added line
_DIFF_REMOVED = re.compile(r"^-(?:[^-]|$)|^\? ")


def xtrace_echoes(numbered: list[tuple[int, str]]) -> set[int]:
    """The numbers of the lines that are `set -x` echoes of a command, in a log that shows them: `+ cmd` outside a
    diff's hunk (a formatter's check prints `+ line` as content after `@@ -1,3 +1,4 @@`)."""
    found: list[int] = []
    traced, hunk, last = False, False, None
    for n, text in numbered:
        if last is not None and n != last + 1:
            hunk = False  # a gap in the excerpt ends what was known of a hunk
        last = n
        if _HUNK.match(text):
            hunk = True
        elif hunk and _IN_HUNK.match(text):
            continue
        else:
            hunk = False
            if XTRACE.match(text):
                found.append(n)
            elif _TRACED.search(text):
                traced = True
    return set(found) if traced or len(found) >= XTRACE_SHOWN else set()


def is_xtrace_step(text: str, above: Iterable[str]) -> bool:
    """Whether a line (after its prefixes) is a traced script's command echo that starts a step's output, given the
    lines above it, nearest first: not a line of a diff, whose added lines look the same (a unified diff's hunk under
    its `@@` header, or an ndiff's `- old` / `+ new` lines)."""
    if not XTRACE_STEP.match(text):
        return False
    for line in islice(above, XTRACE_LOOK_BACK):
        if _HUNK.match(line) or _DIFF_REMOVED.match(line):
            return False
        if not _IN_HUNK.match(line):
            return True  # output above the run of diff-shaped lines: no diff holds this line
    return True


def strip_prefix(text: str) -> str:
    """A line without a CI system's step prefix (Cloud Build's step name, CodeBuild's agent stamp, a Jenkins parallel
    branch's name)."""
    if text.startswith(_PREFIX_STARTS):
        return STEP_PREFIX.sub("", text, count=1)
    m = BRANCH_PREFIX.match(text) if text.startswith("[") else None
    return text[m.end() :] if m else text


def may_have_prefix(text: str) -> bool:
    """Whether a line may start with a prefix bare() removes (a cheap test: most lines have none)."""
    return text[:1] in "S[" or "| " in text or 0 < text.find(": ", 0, SOURCE_PREFIX_CHARS)


def _source(text: str) -> re.Match[str] | None:
    """The match of a task's source before a line (SOURCE_PREFIX), None without one."""
    end = text.find(": ", 0, SOURCE_PREFIX_CHARS)
    if end <= 0:
        return None
    # Each form holds a `:` or a `/` or ends in a digit before its `: `; most lines' first `: ` follows a word.
    head = text[:end]
    if ":" not in head and "/" not in head and not head[-1].isdigit():
        return None
    return SOURCE_PREFIX.match(text)


def bare(text: str) -> str:
    """A line without the prefixes a CI system or a container runner puts before a tool's words: a step prefix, a
    parallel branch's name, a compose service's name, the task a monorepo runner or a workflow engine relays."""
    if text[:1] in "S[":  # the first letters of STEP_PREFIX and BRANCH_PREFIX (most lines have neither)
        text = strip_prefix(text)
    if "| " in text:
        m = SERVICE_PREFIX.match(text)
        text = text[m.end() :] if m else text
    for _ in range(2):  # a workflow engine's pod relaying a monorepo runner's task: two sources
        if (m := _source(text)) is None:
            break
        text = text[m.end() :]
    return text


def branch_of(text: str) -> str | None:
    """The name in a line's branch prefix (`unit` for `[unit] + make test`) or its task's source (`web:test`), None
    without one: lines of parallel branches or tasks print interleaved."""
    if text.startswith("["):
        m = BRANCH_PREFIX.match(text)
        return m.group(0)[1:-2] if m else None
    m = _source(text)
    return m.group(0)[:-2] if m else None


def marked_failure(text: str) -> str | None:
    """The tool's words a system's error marker carries (`##vso[task.logissue type=error]...`, TeamCity's
    testFailed, buildProblem or error message), as a sentence; None for any other line."""
    if not text.startswith("##"):
        return None
    if m := _LOGISSUE.match(text):
        return m.group("msg").strip() or None
    m = _TEAMCITY.match(text)
    if m is None:
        return None
    attrs = {
        k: re.sub(r"\|(.)", lambda e: _UNESCAPE.get(e.group(1), e.group(1)), v) for k, v in _ATTR.findall(m["attrs"])
    }
    if m["kind"] == "testFailed":
        words = ": ".join(v for v in (attrs.get("name", ""), attrs.get("message", "")) if v)
    elif m["kind"] == "buildProblem":
        words = attrs.get("description", "")
    else:
        words = attrs.get("text", "") if attrs.get("status", "").upper() in ("ERROR", "FAILURE") else ""
    return words.strip() or None


def is_step_start(text: str) -> bool:
    """Whether a line starts a step's output on a system that echoes no `$ command` (STEP_START)."""
    return bool(STEP_START.match(strip_prefix(text)))


def is_log_dump(text: str) -> bool:
    """Whether a command echo runs a command that prints other programs' logs (LOG_DUMP)."""
    return bool(LOG_DUMP.match(bare(text)))


def is_post_start(text: str) -> bool:
    """Whether a line starts a phase that runs after a failure (Jenkins' declarative `post` section)."""
    return bool(POST_START.match(text))


def is_framing(text: str) -> bool:
    """Whether a line is a CI system's own step, section or phase line (after its prefix)."""
    return bool(FRAMING.match(strip_prefix(text)))
