"""Two keys for a failure (pure).

- The *family key* (`family_key`, also `signature`) says "this kind of failure": every number in the
  decisive lines becomes `<n>`, so `assert 404 == 200` and `assert 500 == 200` in one test share it.
  It serves "seen before", grouping and statistics.
- The *strict key* (`strict_key`) says "this very failure again": only volatile tokens are normalised
  (times, durations, ids, hashes, addresses, temp paths, ports, counts of passed tests); numbers that
  carry meaning stay (status codes, expected and actual values, exit codes, line numbers in the
  project's own files). An answer is reused only when the strict key matches.

Both keys hash the same decisive lines: the strongest failure lines of the block the excerpt leads
with. The strict key also hashes the exit status lines ("exit code 134" is not "exit code 137").
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot.core.excerpt.rules import (
    CLEANUP_SECTIONS,
    COMMAND_STARTS,
    MEDIUM,
    STRONG,
    is_exit_line,
    is_wrapper,
    score_line,
)
from bot.core.types import Excerpt, ExcerptLine

SIGNATURE_LENGTH = 16
DECISIVE_LINES = 4  # the strongest failure lines make the family key; the rest of the excerpt is noise
STRICT_LINES = 8  # the strict key reads further down the ranking: a true repeat repeats them all
MIN_SCORE = 1.0
MAX_LINE_CHARS = 200  # the head of a long line says what it is; its tail is mostly data
STRICT_LINE_CHARS = 500  # ... and the data is what the strict key keeps (a CIDR, a URL, a value at the end)
STRICT_BLOCK_LINES = 16  # ... and the head of the failure as printed, whose detail lines hold the values
MAX_EXIT_LINES = 2  # the strict key's exit status lines, the last ones of the excerpt

_Sub = tuple[re.Pattern[str], str]

_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"

# An IPv6 address in brackets has at least two colons; "containers[0]", "make[2]" and "[1/5]" are indexes, levels, steps.
_IPV6 = re.compile(r"\[[0-9a-f]*:[0-9a-f]*:[0-9a-f:]*\](?::\d+)?", re.I)
# A random id (BuildKit refs, base32/base64 tokens): a long run mixing digits and letters.
_RANDOM_ID = re.compile(r"\b(?=[A-Za-z0-9]*\d[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{16,}\b")

# Order matters: specific shapes first, so a UUID is not eaten as hex and numbers.
_HEAD: list[_Sub] = [
    (re.compile(r"\[REDACTED:[a-z0-9-]+\]"), "<secret>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "<ts>"),
    # the same time in a file name, where ':' is not allowed (npm's _logs/2024-05-01T10_20_11_482Z-debug-0.log)
    (re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}[_-]\d{2}[_-]\d{2}(?:[._]\d+)?Z?"), "<ts>"),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<time>"),
    # dates in words: HTTP's "Wed, 01 May 2024", date(1)'s "Wed May  1", syslog's "Apr 12 10:00:00"
    (
        re.compile(
            rf"\b(?:{_WEEKDAY},? +)?\d{{1,2}} {_MONTH} \d{{4}}\b|\b{_WEEKDAY},? +{_MONTH} +\d{{1,2}}\b"
            rf"|\b{_MONTH} +\d{{1,2}}(?= <time>)"
        ),
        "<date>",
    ),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    (re.compile(r"\bsha\d*[:=][0-9a-f]{16,}\b", re.I), "<digest>"),
    # a Kubernetes pod's generated suffix: "-<replica set hash>-<5 characters>" or a job's "-<5 characters>"
    # after a hash, both drawn from Kubernetes' alphabet without vowels; a new pod gets new ones
    (re.compile(r"-(?=[a-z0-9]*\d)[bcdfghjklmnpqrstvwxz2-9]{8,10}-[bcdfghjklmnpqrstvwxz2-9]{5}\b"), "-<pod>"),
]
_TEMP_PATHS: list[_Sub] = [
    (re.compile(r"(?:/tmp|/var/folders|/private/var|C:\\Users\\[^\\\s]+\\AppData\\Local\\Temp)[^\s:'\"]*"), "<tmp>"),
    (re.compile(r"/builds/[^\s:'\"]+?/(?=[^/\s]+)"), "<builds>/"),
    # other CI services' checkout roots: a job runs on Linux or macOS runners with the same project inside
    (re.compile(r"(?:/home/travis/build|/Users/travis/build|/home/runner/work|/Users/runner/work)/"), "<builds>/"),
]

# The family key: every number is <n>.
_FAMILY: list[_Sub] = _HEAD + [
    (re.compile(r"\b[0-9a-f]{12,}\b", re.I), "<hex>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<addr>"),
    # a random id would otherwise leave its letters between <n>s, different on every run
    (_RANDOM_ID, "<id>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), "<ip>"),
    (_IPV6, "<ip6>"),
    *_TEMP_PATHS,
    (re.compile(r"\b\d+(?:\.\d+)?\s*(?:ms|s|sec|secs|seconds|m|min|minutes|h)\b"), "<dur>"),
    (re.compile(r"localhost:\d+"), "localhost:<port>"),
    (re.compile(r"\d+"), "<n>"),
    (re.compile(r"\s+"), " "),
]

# Words after which a number counts something that passed, ran or was skipped: it changes when tests are
# added, so it is volatile. A count of failures is not ("1 failed" and "2 failed" are different failures).
_PASS_WORDS = (
    r"passed|passing|pass|ok|succeeded|successful|skipped|pending|deselected|xfailed|xpassed|"
    r"warnings?|total|(?:tests?|examples?|specs?|assertions?|suites?|files?|checks?|runs?)"
    r"(?!\s*(?:\(s\)\s*)?(?:failed|failing|errored|broken|with errors))"
)

# The strict key: only volatile tokens go; every other number stays.
_STRICT: list[_Sub] = _HEAD + [
    # a URL's port and numeric path segments (job, pipeline, build ids)
    (re.compile(r"(\w+://[^/\s:@]+):\d{2,5}\b"), r"\1:<port>"),
    (re.compile(r"(?<=/)\d{3,}(?=[/?#\s'\")]|$)"), "<id>"),
    # an id in a query or a key=value pair: "?job_id=6543210", "run_id=812"
    (re.compile(r"(?i)\b(id|\w+_id)=\d{3,}\b"), r"\1=<id>"),
    # an address with a prefix length is a network of the configuration ("10.20.1.0/24"), not a host of this run
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b(?!/\d)"), "<ip>"),
    (_IPV6, "<ip6>"),
    (re.compile(r"\b(?:localhost|127\.0\.0\.1|0\.0\.0\.0):\d+"), "localhost:<port>"),
    # Python's (host, port) socket address: "[Connect call failed ('127.0.0.1', 45123)]"
    (re.compile(r"(<ip>', )\d{2,5}\b"), r"\1<port>"),
    (re.compile(r"\bports? \d{2,5}\b"), "port <port>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<addr>"),
    # hashes: long hex, or a git-style short hash that mixes digits and letters
    (re.compile(r"\b[0-9a-f]{12,}\b", re.I), "<hex>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b", re.I), "<hex>"),
    # random ids (BuildKit refs, pod suffixes, base32/base64 tokens): long runs mixing digits and letters
    (_RANDOM_ID, "<id>"),
    *_TEMP_PATHS,
    # timers as key=value, before they are taken for Unix times: Travis' "travis_time:end:...,duration=5049694956"
    (re.compile(r"(?i)\b(duration|elapsed|start|finish)=\d+\b"), r"\1=<dur>"),
    # Unix times in seconds, milliseconds or nanoseconds (section markers, Travis' fold timers)
    (re.compile(r"\b1[5-9]\d{8}(?:\d{3}|\d{6}|\d{9})?\b"), "<epoch>"),
    # durations: 12.5s, 152340 ms, 1h0m0s, (0.00s), 3 seconds, Gradle's "1m 47s", XCTest's "0.005 (0.006) seconds"
    (re.compile(r"\b(?:\d+h ?)?(?:\d+m ?)?\d+(?:\.\d+)?s\b|\b\d+h ?\d+m\b"), "<dur>"),
    (re.compile(r"\b\d+\.\d+ \(\d+\.\d+\) seconds\b"), "<dur>"),
    # CPU and wall times (Perl's "10 wallclock secs ( 0.02 usr 0.00 sys + 0.33 cusr ...")
    (re.compile(r"\b\d+\.\d+ (?:usr|sys|cusr|csys|CPU)\b|\b\d+ wallclock secs?\b"), "<dur>"),
    # minutes and seconds: Maven's "Total time:  01:23 min", PHPUnit's "Time: 00:01.284" (not a line:column pair)
    (re.compile(r"\b\d{1,2}:\d{2}(?:\.\d+\b|\s*min\b)"), "<dur>"),
    # ... and with a space before a bare "s": .NET's "Duration: 1 s", Jest's "(5.123 s)", Surefire's "Time elapsed: 0.4 s"
    (re.compile(r"\b\d+(?:\.\d+)? s\b(?![\w'-])"), "<dur>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s*(?:ns|µs|us|ms|sec|secs|seconds?|min|mins|minutes?|hours?)\b"), "<dur>"),
    # memory measured at the moment (GC lines, OOM reports): it differs on every run
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:[kKMGT]i?B|bytes)\b"), "<size>"),
    # counts of what passed, ran or was skipped, and progress
    (re.compile(rf"(?i)\b\d+(?=\s+(?:{_PASS_WORDS})\b)"), "<count>"),
    (
        re.compile(
            r"(?i)\b(tests run|ran|passed|passing|total|skipped|pending|succeeded|ok|assertions|warnings)(:?\s*)\d+\b"
        ),
        r"\1\2<count>",
    ),
    (re.compile(r"\[\s*\d+%\]"), "[<pct>]"),
    # PHPUnit's "Tests: 52, Assertions: 118, Failures: 1": how many ran, unless it counts failures ("Tests: 2 failed")
    (re.compile(r"(?i)\b(tests:\s*)\d+\b(?!\s+(?:failed|failing|errored|broken))"), r"\1<count>"),
    # the seed of a shuffled or randomised run: "Randomized with seed 4711", "Running ExUnit with seed: 618273",
    # "--randomly-seed=2817390411", "Random Seed:   1714558512", Go's "-test.shuffle 1714557601234567890"
    (re.compile(r"(?i)\b(seed|shuffle)(\W{1,4})\d+\b"), r"\1\2<seed>"),
    # a process, job or pipeline id: "Killed process 4121", "job #812345", "pid=77", buildkit's "#8 "
    (
        re.compile(
            r"(?i)\b(pid|process|job|pipeline|build|run|thread|worker|executor|session|container|request|task)([ #:=]+)\d+\b"
        ),
        r"\1\2<id>",
    ),
    # BuildKit's plain progress: "#8 0.512 <output>" (step number, seconds since the step started)
    (re.compile(r"^#\d+ (?:\d+\.\d+ )?"), "#<id> "),
    (re.compile(r"\s+"), " "),
]

# Files that are not the project's own (installed packages, the language's runtime): their line numbers
# change with a package version, not with the failure.
_LIBRARY_LINE = re.compile(
    r"((?:site-packages|dist-packages|node_modules|/usr/(?:local/)?lib|/go/pkg/mod|/\.rvm/|/\.m2/|/gems/|"
    r"<frozen [^>]+>|\binternal/|\bnode:internal)[^\s:'\"()]*)(:\d+(?::\d+)?|\", line \d+)"
)


# Lines that report progress or a pass, not the failure: their order and number change from run to run
# (parallel and shuffled tests, a build's percentage), so a re-run of the same failure prints them otherwise.
# Only lines weaker than MEDIUM are dropped: "[ 45%] tests/a.py FAILED" stays.
_PASS_OR_PROGRESS = re.compile(
    # Jest "PASS src/a.test.ts", Vitest/Mocha "✓ adds", Go "ok  \tpkg\t0.4s", TAP "ok 3 - name"
    r"^\s*(?:✓|✔|√|PASS(?:ED)?\b|ok\b)"
    # cargo and unittest "test x ... ok", XCTest "Test Case 'x' passed (0.001 seconds)", GoogleTest "[       OK ]"
    r"|\.\.\.\s*ok\s*$|\bpassed \(|\[\s*OK\s*\]"
    # a line of progress marks (pytest, PHPUnit, ExUnit, RSpec dots), maybe with its percentage or count
    r"|^\s*[.sSxXfFeEP*!]+(?:\s+(?:\[\s*\d+%\]|\d+\s*/\s*\d+\s*\(\s*\d+%\)))?\s*$"
    # a build's percentage: CMake "[ 33%] Building C object", Gradle "<====---> 71% EXECUTING", webpack "62% building"
    r"|\[\s*\d{1,3}%\]|\b\d{1,3}% (?:EXECUTING|building)\b"
)


# A line that only says how long something took or when, once its times are replaced: "Time: <dur>, estimated
# <dur>", "[INFO] Total time: <dur>", "[INFO] Finished at: <ts>". Tools add or leave out parts of it from run to run.
_TIMING = re.compile(
    r"^(?:\[\w+\] *)?[A-Za-z][\w ]{0,30}:? *<(?:dur|ts|time|date)>(?:[,;]? *[\w ]{0,20}<(?:dur|ts|time|date)>)*\W*$"
)


def normalise(line: str) -> str:
    """A line as the family key reads it: run-specific parts (times, ids, hashes, temp paths, numbers) replaced."""
    text = line.strip()
    for pattern, replacement in _FAMILY:
        text = pattern.sub(replacement, text)
    return text.strip()


def _library_line(m: re.Match[str]) -> str:
    return m.group(1) + ('", line <n>' if m.group(2).startswith('"') else ":<n>")


def normalise_volatile(line: str) -> str:
    """A line as the strict key reads it: only volatile tokens replaced, meaningful numbers kept."""
    text = _LIBRARY_LINE.sub(_library_line, line.strip())
    for pattern, replacement in _STRICT:
        text = pattern.sub(replacement, text)
    return text.strip()


def _strongest(items: list[tuple[float, int, str]], limit: int) -> list[str]:
    return [
        text
        for _, _, text in sorted(sorted(items, key=lambda item: (-item[0], item[1]))[:limit], key=lambda item: item[1])
    ]


def _failure_lines(excerpt: Excerpt) -> list[tuple[float, int, str]]:
    scored = [(score_line(line.text), i, line.text) for i, line in enumerate(excerpt.lines)]
    return [item for item in scored if item[0] >= MIN_SCORE and not is_exit_line(item[2])]


def decisive_lines(excerpt: Excerpt, limit: int = DECISIVE_LINES) -> list[str]:
    """The raw text of the lines a key is made of: the `limit` strongest failure lines, in log order."""
    strong = _failure_lines(excerpt)
    if excerpt.lead is not None:
        # The block the excerpt leads with is the failure itself; other strong lines are often
        # side remarks (a sudo setting, a retried download) that vary from run to run.
        first, last = excerpt.lead
        lead = [item for item in strong if first <= excerpt.lines[item[1]].n <= last]
        strong = lead or strong
    if not strong:
        # No line looks like an error: fall back to the last non-empty lines before the exit.
        strong = [(0.0, i, line.text) for i, line in enumerate(excerpt.lines) if line.text.strip()][-3:]
    return _strongest(strong, limit)


def _in_order(excerpt: Excerpt, texts: list[str]) -> list[str]:
    """The given line texts once each, in log order."""
    wanted = set(texts)
    return [line.text for line in excerpt.lines if line.text in wanted]


def _unique(lines: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for line in lines:
        if line and line not in seen:
            seen.add(line)
            out.append(line)
    return out


def template_lines(excerpt: Excerpt) -> list[str]:
    """The normalised decisive lines that the family key hashes, in log order."""
    return _unique([normalise(text)[:MAX_LINE_CHARS] for text in decisive_lines(excerpt)])


# GitLab Runner's own lines outside its sections (before the first one, or in a log read without markers).
_RUNNER_BANNER = re.compile(
    r"^(?:Running with gitlab-runner |\s*on \S+ \S+, system ID: |Preparing the \"[\w+-]+\" executor|"
    r"Executing \"\w+\" stage of the job script|Cleaning up project directory and file based variables)"
)


def _runner_line(line: ExcerptLine) -> bool:
    """A line the runner prints after the script in its clean-up sections ("Cleaning up project directory ..."),
    the same for every failure; a strong line there (a failed upload) is a failure of its own."""
    runner = bool(line.section and CLEANUP_SECTIONS.search(line.section)) or bool(_RUNNER_BANNER.match(line.text))
    return runner and score_line(line.text) < STRONG


def _noise(text: str) -> bool:
    """A line the strict key leaves out: empty, a pass or progress report (see _PASS_OR_PROGRESS), or npm's
    boilerplate around a failed script (it says that the script failed, not what; budget cuts it at random)."""
    return not text.strip() or (score_line(text) < MEDIUM and bool(_PASS_OR_PROGRESS.search(text))) or is_wrapper(text)


def _failure_region(excerpt: Excerpt) -> list[ExcerptLine]:
    """The failure as the tool printed it: from the first line of the lead block to the end of the excerpt,
    without the runner's clean-up lines. A report often heads its detail ("=== FAILURES ===", "There was
    1 failure:", a spec list) and gives the values below, where the lead block may have ended."""
    if excerpt.lead is None:
        return []
    first = excerpt.lead[0]
    return [
        line
        for line in excerpt.lines
        if line.n >= first and not _runner_line(line) and not _noise(line.text) and not is_exit_line(line.text)
    ]


def _command(excerpt: Excerpt, before: int) -> list[str]:
    """The last command the job echoed ("$ curl -fsS https://.../health") at or above the line numbered `before`:
    what failed is often named only there, and a re-run of the same failure runs the same command."""
    commands = [line.text for line in excerpt.lines if line.n <= before and line.text.startswith(COMMAND_STARTS)]
    return commands[-1:]


def strict_lines(excerpt: Excerpt) -> list[str]:
    """What the strict key hashes: the failing command, the decisive lines, the head of the failure as printed
    and its strongest lines, and the last exit status lines, volatile tokens replaced."""
    lines = decisive_lines(excerpt, STRICT_LINES)
    region = _failure_region(excerpt)
    if region:
        # Its detail lines ("pricing_test.go:42: got 1250, want 1200", "Expected: 1200", a file and line) hold
        # the values, often without a failure word; its strongest lines are the tool's own statement of them.
        strongest = _strongest([(score_line(line.text), line.n, line.text) for line in region], STRICT_LINES)
        lines = _in_order(excerpt, lines + [line.text for line in region[:STRICT_BLOCK_LINES]] + strongest)
        if not any(score_line(text) >= STRONG for text in lines):
            # A lead without a strong failure line is not a sure statement of the failure: read the whole excerpt too.
            lines += _strongest(_failure_lines(excerpt), STRICT_LINES)
    lines = [text for text in lines if not _noise(text)]
    if not any(score_line(text) >= MIN_SCORE and not is_exit_line(text) for text in lines):
        lines = _last_words(excerpt)
    last = excerpt.lines[-1].n if excerpt.lines else 0
    chosen = set(lines)
    first = next((line.n for line in excerpt.lines if line.text in chosen), last)
    exits = [line.text for line in excerpt.lines if is_exit_line(line.text)][-MAX_EXIT_LINES:]
    normalised = [normalise_volatile(text)[:STRICT_LINE_CHARS] for text in _command(excerpt, first) + lines + exits]
    return _unique([text for text in normalised if not _TIMING.match(text) or score_line(text) >= MEDIUM])


def _last_words(excerpt: Excerpt) -> list[str]:
    """When nothing says what failed, the last words of the job's own output are all that tells two failures apart:
    the lines after the last command it echoed, else the last lines; the runner's own lines (its preamble and
    clean-up, the same for every job) do not count."""
    own = [
        line for line in excerpt.lines if line.text.strip() and not _runner_line(line) and not is_exit_line(line.text)
    ]
    commands = [i for i, line in enumerate(own) if line.text.startswith(COMMAND_STARTS)]
    if commands:
        own = own[commands[-1] + 1 :]
    return [line.text for line in own][-STRICT_LINES:]


def _hash(lines: list[str]) -> str:
    if not lines:
        return ""
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:SIGNATURE_LENGTH]


def family_key(excerpt: Excerpt) -> str:
    """The loose key: the same kind of failure, whatever its values; '' for an empty excerpt."""
    return _hash(template_lines(excerpt))


def strict_key(excerpt: Excerpt) -> str:
    """The strict key: the same failure with the same values; '' for an empty excerpt, and for one that holds
    nothing but how the job ended: "exit code 1" alone is every silent failure, and an answer is never reused
    on a key that does not say what failed."""
    lines = strict_lines(excerpt) if excerpt.lines else []
    return _hash(lines) if any(not is_exit_line(text) for text in lines) else ""


# The name the rest of the code has used for the family key.
signature = family_key


@dataclass(frozen=True, slots=True)
class FailureKeys:
    """Both keys of one failed job's excerpt."""

    family: str
    strict: str


def failure_keys(excerpt: Excerpt) -> FailureKeys:
    """Both keys, computed from one choice of decisive lines."""
    return FailureKeys(family_key(excerpt), strict_key(excerpt))
