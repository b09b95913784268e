"""Failure signatures: the same failure gets the same short hash across pipelines (pure)."""
from __future__ import annotations

import hashlib
import re

from bot.core.excerpt.rules import is_exit_line, score_line
from bot.core.types import Excerpt

SIGNATURE_LENGTH = 16
DECISIVE_LINES = 4  # the strongest failure lines make the signature; the rest of the excerpt is noise
MIN_SCORE = 1.0
MAX_LINE_CHARS = 200  # the head of a long line says what it is; its tail is mostly data

# Order matters: specific shapes first, so a UUID is not eaten as hex and numbers.
_NORMALISERS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\[REDACTED:[a-z0-9-]+\]"), "<secret>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "<ts>"),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<time>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    (re.compile(r"\bsha\d*[:=][0-9a-f]{16,}\b", re.I), "<digest>"),
    (re.compile(r"\b[0-9a-f]{12,}\b", re.I), "<hex>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<addr>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\[[0-9a-f:]+\](?::\d+)?", re.I), "<ip6>"),
    (re.compile(r"(?:/tmp|/var/folders|/private/var|C:\\Users\\[^\\\s]+\\AppData\\Local\\Temp)[^\s:'\"]*"), "<tmp>"),
    (re.compile(r"/builds/[^\s:'\"]+?/(?=[^/\s]+)"), "<builds>/"),
    (re.compile(r"\b\d+(?:\.\d+)?\s*(?:ms|s|sec|secs|seconds|m|min|minutes|h)\b"), "<dur>"),
    (re.compile(r"localhost:\d+"), "localhost:<port>"),
    (re.compile(r"\d+"), "<n>"),
    (re.compile(r"\s+"), " "),
]


def normalise(line: str) -> str:
    """A line with its run-specific parts (times, ids, hashes, temp paths, numbers) replaced by placeholders."""
    text = line.strip()
    for pattern, replacement in _NORMALISERS:
        text = pattern.sub(replacement, text)
    return text.strip()


def template_lines(excerpt: Excerpt) -> list[str]:
    """The normalised decisive lines that the signature hashes, in log order."""
    scored = [(score_line(line.text), i, line.text) for i, line in enumerate(excerpt.lines)]
    strong = [item for item in scored if item[0] >= MIN_SCORE and not is_exit_line(item[2])]
    if excerpt.lead is not None:
        # The block the excerpt leads with is the failure itself; other strong lines are often
        # side remarks (a sudo setting, a retried download) that vary from run to run.
        first, last = excerpt.lead
        lead = [item for item in strong if first <= excerpt.lines[item[1]].n <= last]
        strong = lead or strong
    if not strong:
        # No line looks like an error: fall back to the last non-empty lines before the exit.
        strong = [(0.0, i, line.text) for i, line in enumerate(excerpt.lines) if line.text.strip()][-3:]
    chosen = sorted(sorted(strong, key=lambda item: (-item[0], item[1]))[:DECISIVE_LINES], key=lambda item: item[1])
    seen: set[str] = set()
    out: list[str] = []
    for _, _, text in chosen:
        norm = normalise(text)[:MAX_LINE_CHARS]
        if norm and norm not in seen:
            seen.add(norm)
            out.append(norm)
    return out


def signature(excerpt: Excerpt) -> str:
    """A short stable hash of the failure; '' for an empty excerpt."""
    lines = template_lines(excerpt)
    if not lines:
        return ""
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:SIGNATURE_LENGTH]
