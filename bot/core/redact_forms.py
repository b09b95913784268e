"""The encoded forms of a secret (base64 at every alignment, URL-encoded, hex) and the trie pre-filter (pure)."""

from __future__ import annotations

import base64
import binascii
import functools
import math
import re
import string
from collections.abc import Callable, Iterable
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


# How often each character appears in lower-cased CI log text, per 10,000 characters: counted over the LogChunks
# failed logs of many projects and rounded (the letters come in about English order; the rest is timestamps,
# paths and punctuation). Unlisted characters are rarer than 1 in 10,000.
CHAR_FREQUENCY = {
    **{" ": 3600, "t": 455, "e": 428, "n": 404, "r": 389, "s": 370, ".": 327, "o": 241, "c": 223, "i": 219},
    **{"u": 197, "2": 197, "1": 197, "\n": 182, "/": 176, "=": 168, "0": 161, "a": 150, "g": 116, "3": 114},
    **{"4": 108, "l": 100, "p": 93, "m": 85, "k": 83, "[": 81, "d": 81, "9": 80, "-": 72, "w": 70, "8": 67},
    **{"5": 67, "]": 66, "b": 64, "6": 59, ":": 57, "7": 53, "y": 50, "h": 49, "f": 44, "v": 37, "(": 28},
    **{")": 27, "_": 25, "+": 21, "x": 18, "%": 12, "j": 9, "?": 9, ",": 7, ";": 6, "\t": 5, "*": 5, "'": 4},
    **{"z": 4, "q": 4, ">": 3, '"': 2, "#": 2, "!": 2},
}


def anchor_letters(words: Iterable[str]) -> frozenset[str]:
    """Characters, seldom seen in logs all together, such that each word holds one of them.

    The pre-filter looks at a line only where it finds one of these (the regex engine skips the rest one
    character at a time in a tight loop), so their summed frequency is what the pre-filter costs."""
    words = sorted(set(words))
    chosen = {rarest(w) for w in words if w}  # each word's rarest character

    def covered(letters: set[str]) -> bool:
        return all(any(ch in letters for ch in w) for w in words)

    improved = True
    while improved:  # drop a frequent letter whose words hold a cheaper one (or fewer cheaper ones) as well
        improved = False
        for letter in sorted(chosen, key=lambda ch: (-char_frequency(ch), ch)):
            rest = chosen - {letter}
            bare = [w for w in words if not any(ch in rest for ch in w)]
            spare = {rarest(w) for w in bare}
            if (
                letter not in spare
                and sum(map(char_frequency, spare)) < char_frequency(letter)
                and covered(rest | spare)
            ):
                chosen = rest | spare
                improved = True
                break
    return frozenset(chosen)


def char_frequency(ch: str) -> int:
    return CHAR_FREQUENCY.get(ch, 0)


def rarest(word: str) -> str:
    """The character of word seen least often in logs."""
    return min(word, key=char_frequency)


def by_frequency(item: tuple[str, Any]) -> tuple[int, str]:
    """A trie node's children, the most frequent letter first."""
    return -char_frequency(item[0]), item[0]


def anchor_at(word: str, anchors: frozenset[str]) -> int:
    """Where word is matched from: its rarest anchor letter, but not its last character when it has another one.
    A word anchored at its end is checked by a look-behind at every place holding that letter ("key-" at every
    "-"), where one anchored before its end fails at once on the next character."""
    places = [i for i, ch in enumerate(word) if ch in anchors]
    inner = [i for i in places if i < len(word) - 1] or places
    return min(inner, key=lambda i: (char_frequency(word[i]), i))


def anchored_regex(words: Iterable[str], anchors: frozenset[str]) -> str:
    """One alternation matching where any word is, each word matched from its rarest anchor letter then checked
    backwards: "c(?:ret(?<=secret)|...)|k(?:en(?<=token)|ey|...)". Only the anchor letters start a match attempt,
    and the few attempts fail on their next character. Words must each hold an anchor letter."""
    branches: dict[str, set[tuple[str, str]]] = {}
    for word in words:
        at = anchor_at(word, anchors)
        branches.setdefault(word[at], set()).add((word[at:], word if at else ""))
    # The most frequent letter first: the engine tries the alternatives in order.
    alts = [
        _anchored_branch(frozenset(branches[ch])) for ch in sorted(branches, key=lambda ch: (-char_frequency(ch), ch))
    ]
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"


def innermost_words(words: Iterable[str]) -> frozenset[str]:
    """The words that hold no other word: a line holding one of the others holds one of these as well, so a
    pre-filter of these passes the same lines, with fewer alternatives to try at each anchor letter ("signtool" is
    left to "sig", "password-file" to "passw")."""
    words = frozenset(words)
    return frozenset(
        w
        for w in words
        if not any(w[i:j] in words for i in range(len(w)) for j in range(i + 1, len(w) + 1) if j - i < len(w))
    )


@functools.lru_cache(maxsize=256)
def _anchored_branch(entries: frozenset[tuple[str, str]]) -> str:
    """The alternation of the words matched from one anchor letter: (the word from that letter on, the whole word
    to check backwards or "" when it starts there). Kept: a secret found adds words to one or two letters' branches
    only, and the pre-filter is built anew each time."""
    root: dict[str, Any] = {}
    for tail, word in entries:
        node = root
        for ch in tail:
            node = node.setdefault(ch, {})
        node.setdefault("", set()).add(word)

    def emit(node: dict[str, Any]) -> str:
        ends = node.get("", ())
        if "" in ends:
            return ""  # a word starting here ends here: a match whatever came before
        alts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items(), key=by_frequency) if ch]
        alts += ["(?<=" + re.escape(word) + ")" for word in sorted(ends)]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(root)


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


@functools.lru_cache(maxsize=16)
def compiled_trie(words: frozenset[str]) -> re.Pattern[str]:
    """trie_regex compiled, once per set of words: every redactor of a process has the same rules' words."""
    return re.compile(trie_regex(words))


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


# A secret shorter than this is not looked for elsewhere: its encoded forms would match ordinary text.
MIN_KNOWN_LEN = 8
# Longer values are blobs (a whole config, a certificate chain) rather than one secret to find again.
MAX_KNOWN_LEN = 1024
# At most this many secrets are remembered per log; a log printing more is left to the rules alone.
MAX_KNOWN = 64
# What an encoded run is made of: a found fragment is widened to its run, whose edge characters carry
# bits of the secret too ("=" only on the right, where base64 pads).
_RUN_CHARS = frozenset(string.ascii_letters + string.digits + "+/_-")


def encoded_forms(secret: str) -> dict[str, bool]:
    """Each way a secret is re-printed -> whether a match is widened to the encoded run around it.

    As is, URL-encoded, hex (either case), and base64 (standard and URL-safe), alone or inside longer
    encoded text: `echo $KEY | base64` encodes the secret with a newline after it, a docker auth blob
    with the user before it, so only the characters wholly made of the secret's bits are looked for.
    """
    raw = secret.encode()
    # A hex form inside a longer run (the hex of the secret and its newline) is widened like base64; the secret
    # as printed is not: it may end a branch name or a path that is worth keeping.
    forms = {secret: False, raw.hex(): True, raw.hex().upper(): True}
    for encoded in (quote(secret, safe=""), quote_plus(secret)):
        forms.setdefault(encoded, False)  # the same as the secret when it has nothing to encode
    for fragment in base64_fragments(secret):
        forms[fragment] = True
        forms[fragment.replace("+", "-").replace("/", "_")] = True
    return {form: widen for form, widen in forms.items() if len(form) >= MIN_KNOWN_LEN}


class KnownSecrets:
    """The secrets found so far in one text or log, and their forms to look for everywhere else in it."""

    def __init__(self) -> None:
        self.kinds: dict[str, str] = {}  # secret -> placeholder kind
        self.forms: dict[str, tuple[str, bool]] = {}  # form -> (kind, widen)
        self.owner: dict[str, str] = {}  # form -> the secret it is a form of

    def __bool__(self) -> bool:
        return bool(self.forms)

    def add(self, secret: str, kind: str) -> list[str]:
        """Remember a secret; returns its forms not looked for yet."""
        secret = secret.strip().strip("\"'")
        if not MIN_KNOWN_LEN <= len(secret) <= MAX_KNOWN_LEN or secret in self.kinds or "[REDACTED" in secret:
            return []
        if len(self.kinds) >= MAX_KNOWN:
            return []
        self.kinds[secret] = kind
        new = [form for form in encoded_forms(secret).items() if form[0] not in self.forms]
        for form, widen in new:
            self.forms[form] = (kind, widen)
            self.owner[form] = secret
        return [form for form, _ in new]

    def redact(self, text: str, mark: Callable[[str], str]) -> str:
        """text with every known form replaced by mark(kind)."""
        # A substring test per form runs at memory speed; one regex of random strings tries every position.
        present = [form for form in self.forms if form in text]
        if not present:
            return text
        # The first secret found first (a log read whole or in pieces gives the same placeholders); its
        # longest form first, so a form is never half-replaced by a shorter one inside it.
        order = {secret: i for i, secret in enumerate(self.kinds)}
        present.sort(key=lambda f: (order[self.owner[f]], -len(f)))
        regex = re.compile("|".join(re.escape(f) for f in present))
        out: list[str] = []
        pos = 0
        for match in regex.finditer(text):
            start, end = match.span()
            if start < pos:
                continue  # inside a run already replaced
            kind, widen = self.forms[match.group(0)]
            if widen:
                while start > pos and text[start - 1] in _RUN_CHARS:
                    start -= 1
                while end < len(text) and (text[end] in _RUN_CHARS or text[end] == "="):
                    end += 1
            out.append(text[pos:start])
            out.append(mark(kind))
            pos = end
        out.append(text[pos:])
        return "".join(out)


@functools.lru_cache(maxsize=16)
def prefilter_for(words: frozenset[str]) -> tuple[frozenset[str], frozenset[str], re.Pattern[str]]:
    """(anchor letters, the words it looks for, pre-filter) for the rules' words: the same for every redactor of a
    process. The anchor letters cover every word; the pre-filter looks only for the innermost ones."""
    anchors = anchor_letters(words)
    inner = innermost_words(words)
    return anchors, inner, re.compile(anchored_regex(inner, anchors))


@functools.lru_cache(maxsize=16)
def related_triggers(triggers: frozenset[str]) -> tuple[dict[str, list[str]], dict[str, tuple[str, ...]]]:
    """(covers, overlaps) of the rules' words, as the word trie finds them: the shortest word starting at a place,
    then on from its end. So a found word stands for the words it begins ("sig" may be "sig=") and those inside it
    ("-token" holds "token"): its covers. A word that starts inside it and runs on past its end ("sk-" then
    "-token" in "sk-token") is not found: the overlaps, looked for in the line when the word is found."""
    starting: dict[str, list[str]] = {}  # every prefix of a word -> the words starting so
    for word in triggers:
        for end in range(1, len(word) + 1):
            starting.setdefault(word[:end], []).append(word)
    covers = {word: [other for other in starting.get(word, ()) if other != word] for word in triggers}
    overlaps: dict[str, tuple[str, ...]] = {}
    for word in triggers:
        inside = {word[i:j] for i in range(len(word)) for j in range(i + 1, len(word) + 1)} & triggers
        covers[word] += sorted(inside)
        over = {other for i in range(1, len(word)) for other in starting.get(word[i:], ()) if other not in inside}
        if over:
            overlaps[word] = tuple(sorted(over))
    return covers, overlaps
