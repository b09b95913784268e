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

from bot.core.excerpt.rules import STRONG, is_exit_line, score_line
from bot.core.types import Excerpt

SIGNATURE_LENGTH = 16
DECISIVE_LINES = 4  # the strongest failure lines make the family key; the rest of the excerpt is noise
STRICT_LINES = 8  # the strict key reads further down the ranking: a true repeat repeats them all
MIN_SCORE = 1.0
MAX_LINE_CHARS = 200  # the head of a long line says what it is; its tail is mostly data
STRICT_BLOCK_LINES = 24  # ... and the head of the lead block, whose detail lines hold the values
MAX_EXIT_LINES = 2  # the strict key's exit status lines, the last ones of the excerpt

_Sub = tuple[re.Pattern[str], str]

# Order matters: specific shapes first, so a UUID is not eaten as hex and numbers.
_HEAD: list[_Sub] = [
    (re.compile(r"\[REDACTED:[a-z0-9-]+\]"), "<secret>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "<ts>"),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<time>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    (re.compile(r"\bsha\d*[:=][0-9a-f]{16,}\b", re.I), "<digest>"),
]
_TEMP_PATHS: list[_Sub] = [
    (re.compile(r"(?:/tmp|/var/folders|/private/var|C:\\Users\\[^\\\s]+\\AppData\\Local\\Temp)[^\s:'\"]*"), "<tmp>"),
    (re.compile(r"/builds/[^\s:'\"]+?/(?=[^/\s]+)"), "<builds>/"),
]

# The family key: every number is <n>.
_FAMILY: list[_Sub] = _HEAD + [
    (re.compile(r"\b[0-9a-f]{12,}\b", re.I), "<hex>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<addr>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\[[0-9a-f:]+\](?::\d+)?", re.I), "<ip6>"),
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
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\[[0-9a-f:]+\](?::\d+)?", re.I), "<ip6>"),
    (re.compile(r"\b(?:localhost|127\.0\.0\.1|0\.0\.0\.0):\d+"), "localhost:<port>"),
    (re.compile(r"\bports? \d{2,5}\b"), "port <port>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<addr>"),
    # hashes: long hex, or a git-style short hash that mixes digits and letters
    (re.compile(r"\b[0-9a-f]{12,}\b", re.I), "<hex>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b", re.I), "<hex>"),
    # random ids (BuildKit refs, pod suffixes, base32/base64 tokens): long runs mixing digits and letters
    (re.compile(r"\b(?=[A-Za-z0-9]*\d[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{16,}\b"), "<id>"),
    *_TEMP_PATHS,
    # Unix times in seconds, milliseconds or nanoseconds (section markers, Travis' fold timers)
    (re.compile(r"\b1[5-9]\d{8}(?:\d{3}|\d{6}|\d{9})?\b"), "<epoch>"),
    # durations: 12.5s, 152340 ms, 1h0m0s, (0.00s), 3 seconds
    (re.compile(r"\b(?:\d+h)?(?:\d+m)?\d+(?:\.\d+)?s\b|\b\d+h\d+m\b"), "<dur>"),
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


def strict_lines(excerpt: Excerpt) -> list[str]:
    """What the strict key hashes: the decisive lines and the last exit status lines, volatile tokens replaced."""
    lines = decisive_lines(excerpt, STRICT_LINES)
    if excerpt.lead is not None:
        # The lead block is the failure as the tool printed it; its detail lines ("pricing_test.go:42: got 1250,
        # want 1200", "Expected: 1200") hold the values, often without a failure word.
        first, last = excerpt.lead
        block = [line.text for line in excerpt.lines if first <= line.n <= last and line.text.strip()]
        lines = _in_order(excerpt, lines + block[:STRICT_BLOCK_LINES])
        if not any(score_line(text) >= STRONG for text in lines):
            # A lead without a strong failure line is not a sure statement of the failure: read the whole excerpt too.
            lines += _strongest(_failure_lines(excerpt), STRICT_LINES)
    exits = [line.text for line in excerpt.lines if is_exit_line(line.text)][-MAX_EXIT_LINES:]
    return _unique([normalise_volatile(text)[:MAX_LINE_CHARS] for text in lines + exits])


def _hash(lines: list[str]) -> str:
    if not lines:
        return ""
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:SIGNATURE_LENGTH]


def family_key(excerpt: Excerpt) -> str:
    """The loose key: the same kind of failure, whatever its values; '' for an empty excerpt."""
    return _hash(template_lines(excerpt))


def strict_key(excerpt: Excerpt) -> str:
    """The strict key: the same failure with the same values; '' for an empty excerpt."""
    return _hash(strict_lines(excerpt)) if excerpt.lines else ""


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
