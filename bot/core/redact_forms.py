"""The encoded forms of a secret (base64 at every alignment, URL-encoded, hex) and the trie pre-filter (pure)."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

# Operator literals shorter than this would shred ordinary text; they are ignored.
MIN_LITERAL_LEN = 4

# High-value prefixes whose base64 forms are searched for (a re-print of the secret, encoded).
# Each adds about three fragments to the pre-filter, which costs speed on every line: keep it short.
BASE64_PREFIXES = ("glpat-", "glrt-", "xoxb-", "ghp_", "sk-proj-", "sk-ant-", "AKIA", "-----BEGIN")


def base64_fragments(prefix: str) -> list[str]:
    """The base64 characters fixed by prefix wherever it sits in the encoded text."""
    raw = prefix.encode()
    out = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw + b"\0\0").decode()
        first = math.ceil(8 * shift / 6)
        last = (8 * (shift + len(raw))) // 6  # chars wholly inside the prefix's bits
        fragment = encoded[first:last]
        if len(fragment) >= 5:
            out.append(fragment)
    return out


B64_TRIGGERS = tuple(sorted({f.lower() for p in BASE64_PREFIXES for f in base64_fragments(p)}))


def trie_regex(words: Iterable[str]) -> str:
    """One alternation shaped as a trie: the regex engine rejects most positions on one character."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        if "" in node:
            return ""  # a shorter word already matches here
        alts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items())]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(root)


def literal_variants(literal: str) -> set[str]:
    """A literal as printed, URL-encoded and base64-encoded."""
    variants = {literal, quote(literal, safe=""), quote_plus(literal)}
    encoded = base64.b64encode(literal.encode()).decode()
    variants.add(encoded.rstrip("="))
    variants.update(base64_fragments(literal))
    return {v for v in variants if len(v) >= MIN_LITERAL_LEN}


def decode_base64(value: str) -> str | None:
    """Printable text inside a base64 (or base64url) value, or None."""
    candidate = value.strip().rstrip("=")
    if len(candidate) < 12:
        return None
    candidate = candidate.replace("-", "+").replace("_", "/")
    candidate += "=" * (-len(candidate) % 4)
    try:
        raw = base64.b64decode(candidate, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not text or not text.isprintable() and not all(c.isprintable() or c in "\n\r\t" for c in text):
        return None
    return text
