"""Hidden-character stripping and per-request fencing of untrusted text before it enters a prompt."""

from __future__ import annotations

import re
import secrets

FENCE_OPEN = "<<<UNTRUSTED-{nonce}>>>"
FENCE_CLOSE = "<<<END-UNTRUSTED-{nonce}>>>"

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
# Zero-width characters, bidi embeddings/overrides/isolates, word joiner, BOM, soft hyphen,
# and the Unicode "tag" block that can smuggle invisible ASCII.
_HIDDEN = re.compile(
    "[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
# C0/C1 controls other than tab and newline; a carriage return is kept only as a line break.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Anything that looks like one of our fence markers, whatever the nonce, so a log cannot
# close the fence early or open a fake "trusted" region.
_MARKER = re.compile(r"<{2,}\s*(?:END-)?UNTRUSTED[^>\n]*>*|(?:END-)?UNTRUSTED-[0-9a-f]{6,}", re.IGNORECASE)


def new_nonce() -> str:
    """A fresh unguessable marker for one request."""
    return secrets.token_hex(8)


def strip_hidden(text: str) -> str:
    """Remove ANSI escapes, HTML comments, zero-width and bidi characters and stray controls."""
    if not text:
        return ""
    text = _ANSI.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _HTML_COMMENT.sub("", text)
    text = _HIDDEN.sub("", text)
    return _CONTROL.sub("", text)


def neutralise_markers(text: str) -> str:
    """Remove anything shaped like a fence marker from untrusted text."""
    return _MARKER.sub("", text)


def fence(text: str, nonce: str, label: str = "") -> str:
    """Clean untrusted text and wrap it between this request's markers."""
    body = neutralise_markers(strip_hidden(text))
    head = FENCE_OPEN.format(nonce=nonce)
    if label:
        head = f"{head} ({label})"
    return f"{head}\n{body}\n{FENCE_CLOSE.format(nonce=nonce)}"
