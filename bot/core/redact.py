"""Secret redaction for job logs and for every text the bot stores, sends or posts (pure)."""
from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import quote, quote_plus, unquote

PLACEHOLDER = "[REDACTED:{kind}]"

# A PEM block that never shows its END line would otherwise swallow the rest of the log.
MAX_PEM_LINES = 400
# The streaming redactor holds back an unfinished line; past this size it cuts at a space.
MAX_PENDING_CHARS = 256 * 1024
# Operator literals shorter than this would shred ordinary text; they are ignored.
MIN_LITERAL_LEN = 4


def placeholder(kind: str) -> str:
    return PLACEHOLDER.format(kind=kind)


def shannon_entropy(value: str) -> float:
    """Bits per character of value's own character distribution."""
    if not value:
        return 0.0
    counts = Counter(value)
    size = len(value)
    return -sum(c / size * math.log2(c / size) for c in counts.values())


# --- token formats with a recognisable prefix ------------------------------------------
_GITLAB_PREFIXES = (
    "glpat", "gloas", "gldt", "glrt", "glrtr", "glcbt", "glptt", "glft", "glimt",
    "glagent", "glsoat", "glffct", "glwt", "glsat",
)


def _mixed(value: str) -> bool:
    """Generated keys mix digits with both letter cases; prose and slugs rarely do."""
    return (
        any(c.isdigit() for c in value)
        and any(c.isupper() for c in value)
        and any(c.islower() for c in value)
    )


@dataclass(frozen=True)
class _TokenRule:
    kind: str
    pattern: re.Pattern[str]
    triggers: tuple[str, ...]  # lower-case fragments; the rule only runs on lines holding one
    group: int = 0  # the part of the match that is the secret
    check: Callable[[str], bool] | None = None


def _rule(kind: str, pattern: str, triggers: Iterable[str], group: int = 0,
          check: Callable[[str], bool] | None = None, flags: int = 0) -> _TokenRule:
    return _TokenRule(kind, re.compile(pattern, flags), tuple(triggers), group, check)


_TOKEN_RULES: tuple[_TokenRule, ...] = (
    _rule("gitlab-token",
          r"(?<![\w-])(?:%s)-[0-9A-Za-z_\-]{15,}(?:\.[0-9A-Za-z_\-]+)*" % "|".join(_GITLAB_PREFIXES),
          (p + "-" for p in _GITLAB_PREFIXES)),
    _rule("gitlab-token", r"\bGR1348941[0-9A-Za-z_\-]{20,}", ("gr1348941",)),
    _rule("slack-token", r"\bxox[abposre]-[0-9A-Za-z\-]{10,}", ("xox",)),
    _rule("slack-token", r"\bxapp-\d-[0-9A-Za-z\-]{10,}", ("xapp-",)),
    _rule("slack-webhook", r"hooks\.slack\.com/((?:services|workflows|triggers)/[0-9A-Za-z_/\-]+)",
          ("hooks.slack",), group=1),
    _rule("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b", ("akia", "asia", "abia", "acca")),
    _rule("gcp-api-key", r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])", ("aiza",)),
    _rule("anthropic-key", r"\bsk-ant-[0-9A-Za-z_\-]{20,}", ("sk-",)),
    _rule("openai-key", r"\bsk-(?:proj-|svcacct-|admin-|None-)?[0-9A-Za-z_\-]{20,}", ("sk-",), check=_mixed),
    _rule("github-token", r"\bgh[pousr]_[0-9A-Za-z]{36,255}\b", ("ghp_", "gho_", "ghs_", "ghu_", "ghr_")),
    _rule("github-token", r"\bgithub_pat_[0-9A-Za-z_]{22,255}\b", ("github_pat_",)),
    _rule("npm-token", r"\bnpm_[0-9A-Za-z]{36}\b", ("npm_",)),
    _rule("pypi-token", r"\bpypi-[0-9A-Za-z_\-]{50,}", ("pypi-",)),
    _rule("jwt", r"\beyJ[0-9A-Za-z_\-]{8,}\.eyJ[0-9A-Za-z_\-]{8,}\.[0-9A-Za-z_\-]*", ("eyj",)),
    _rule("azure-storage-key", r"(?i)\b(?:AccountKey|SharedAccessKey)=([0-9A-Za-z+/]{20,}={0,2})",
          ("accountkey", "sharedaccesskey"), group=1),
    _rule("azure-sas", r"(?i)\bSharedAccessSignature=([^\s;\"']+)", ("sharedaccesssignature",), group=1),
    _rule("azure-sas", r"[?&]sig=([0-9A-Za-z%+/=]{16,})", ("sig=",), group=1),
)

# --- key: value forms --------------------------------------------------------------------
_HEADER_VALUE = r"([^\s\"',;]+)"


def _not_masked(value: str) -> bool:
    return not _is_placeholder(value)

_HEADER_RULES: tuple[_TokenRule, ...] = (
    _rule("authorization",
          r"(?i)\b(?:proxy-)?authorization\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|bot|digest|negotiate|apikey|sso-key|gitlab-ci-token)\s+)?" + _HEADER_VALUE,
          ("authorization",), group=1, check=_not_masked),
    _rule("token", r"(?i)\b(?:private|job|deploy)-token\s*:\s*" + _HEADER_VALUE, ("private", "-token"), group=1, check=_not_masked),
    _rule("api-key", r"(?i)\b(?:x-api-key|api-key|x-auth-token|x-gitlab-token|x-vault-token|x-access-token)\s*:\s*" + _HEADER_VALUE,
          ("key", "token"), group=1, check=_not_masked),
    _rule("cookie", r"(?i)\b(?:set-)?cookie\s*:\s*([^\"'\n]+?)\s*(?=[\"']|$)", ("cookie",), group=1, check=_not_masked),
    _rule("aws-secret-key",
          r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]?\s*[\"']?([0-9A-Za-z/+]{40})(?![0-9A-Za-z/+])",
          ("secret",), group=1),
    # curl -u user:password, wget --user=...: the part after the colon.
    _rule("password", r"(?:^|\s)(?:-u|--user)(?:=|\s+)[\"']?[^\s:\"']+:([^\s\"']+)", ("-u ", "--user"), group=1,
          check=lambda v: not v.isdigit() and not _is_placeholder(v)),
    # <password>...</password> in Maven settings.xml and friends.
    _rule("password", r"(?i)<((?:\w+[_.\-]?)?(?:password|passphrase|secret|token|apikey|api-key))>([^<\s][^<]*)</\1>",
          ("password>", "passphrase>", "secret>", "token>", "apikey>", "api-key>"), group=2, check=_not_masked),
    # `docker login -u x -p secret`: a short flag that is a password only in a login command.
    _rule("password", r"(?i)\blogin\b.*?\s(?:-p|--password)(?:=|\s+)(\"[^\"]*\"|'[^']*'|[^\s\"']+)", ("login",), group=1, check=_not_masked),
)

_URL_CREDENTIALS = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@\"'<>]*):([^/\s@\"'<>]+)@")

_PEM_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_PEM_END = re.compile(r"-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
# What may stand on a line inside a PEM block: base64, the legacy headers, quotes and escapes.
_PEM_BODY = re.compile(
    r"^[\s\"'\\n,]*(?:[0-9A-Za-z+/=]{1,128}|(?:Proc-Type|DEK-Info|Comment|Version):[^\n]*)?[\s\"'\\n,]*$"
)
_PEM_ONE_LINE = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)"
)

# Name fragments that make an assignment worth a look; the name is then checked word by word.
_SECRET_NAME_FRAGMENT = r"(?:pass|pwd|passphrase|secret|token|auth|key|credential|sig|salt|cookie|session|dsn)"
_ASSIGNMENT = re.compile(
    r"(?<![\w.\-])(?P<flag>--?)?(?P<name>[A-Za-z0-9_.\-]*" + _SECRET_NAME_FRAGMENT + r"[A-Za-z0-9_.\-]*)"
    r"(?P<nq>[\"']?)(?:\s*(?P<op>:=|=>|[:=])(?![=:/])\s*|(?P<sp>[ \t]+))"
    r"(?P<val>\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[^\s\"',;&<>(){}\[\]|\x00-\x1f]+)",
    re.IGNORECASE,
)
_NAME_SPLIT = re.compile(r"[_.\-]+|(?<=[a-z0-9])(?=[A-Z])")

_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pass", "passphrase", "passcode", "pw"})
_STRONG_WORDS = _PASSWORD_WORDS | frozenset({
    "secret", "secrets", "token", "credential", "credentials", "apikey", "authtoken", "accesstoken",
    "refreshtoken", "clientsecret", "privatekey", "secretkey", "accesskey",
})
_STRONG_PAIRS = frozenset({
    ("api", "key"), ("access", "key"), ("secret", "key"), ("private", "key"), ("signing", "key"),
    ("master", "key"), ("encryption", "key"), ("client", "secret"), ("auth", "token"), ("auth", "key"),
})
_WEAK_WORDS = frozenset({"key", "auth", "sig", "signature", "salt", "cookie", "session", "dsn"})
# Words that may follow the secret word in a name that still holds the secret (SECRET_KEY_BASE).
_TRAILING_OK = frozenset({
    "value", "val", "plain", "raw", "b64", "base64", "base", "enc", "encoded", "str", "string",
    "text", "hex", "data", "prod", "production", "staging", "dev", "ci", "rw", "ro",
})
# Words that, anywhere in the name, say the key is not a secret at all.
_HARMLESS_WORDS = frozenset({
    "cache", "sort", "primary", "foreign", "partition", "public", "group", "idempotency", "lookup",
    "dedup", "registry", "map", "keys", "hotkey", "keyboard", "keyring", "keyserver", "keygen",
    "author", "authors", "authority", "oauth", "tokens", "tokenizer", "signal", "signed", "design",
    "sessions", "max", "min", "num", "count", "package",
})

_REFERENCE = re.compile(r"^(?:\$|`|%[A-Za-z_]|\{\{|<[^>]*>$|\{[A-Za-z_]\w*\}$)")
_NULLISH = frozenset({"null", "none", "nil", "true", "false", "yes", "no", "undefined", "on", "off", "n/a", "-"})
_MASK_CHARS = frozenset("*xX.#-_•")
_ALREADY_MASKED = ("[MASKED]", "[REDACTED", "[FILTERED]", "<redacted>", "(redacted)", "[HIDDEN]", "<hidden>")
_DOTTED_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
_PATH_VALUE = re.compile(r"^(?:~|\.{1,2})?/(?:[\w.\-]+/)*[\w.\-]*$")
_PLACEHOLDER_RE = re.compile(r"\[REDACTED:([a-z0-9\-]+)\]")
_SAFE_CUT_TAIL = re.compile(_SECRET_NAME_FRAGMENT + r"[\w.\-]*[\"']?\s*[:=]?\s*$", re.IGNORECASE)
_RANDOM_RUN = re.compile(r"[0-9A-Za-z+/=_\-]{16,}")
_BASE64_RUN = re.compile(r"(?<![0-9A-Za-z+/_\-])[0-9A-Za-z+/_\-]{16,}={0,2}")
_PERCENT_RUN = re.compile(r"[0-9A-Za-z%._~+\-/:@=&?]*%[0-9A-Fa-f]{2}[0-9A-Za-z%._~+\-/:@=&?]*")
_USER_PASS = re.compile(r"^[^\s:]{1,64}:\S{3,}$")

# High-value prefixes whose base64 forms are searched for (a re-print of the secret, encoded).
# Each adds about three fragments to the pre-filter, which costs speed on every line: keep it short.
_BASE64_PREFIXES = ("glpat-", "glrt-", "xoxb-", "ghp_", "sk-proj-", "sk-ant-", "AKIA", "-----BEGIN")


def _base64_fragments(prefix: str) -> list[str]:
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


_B64_TRIGGERS = tuple(sorted({f.lower() for p in _BASE64_PREFIXES for f in _base64_fragments(p)}))

_KEYWORD_TRIGGERS = (
    "passw", "_pass", "pass=", "pass:", "pass\"", "pwd", "passphrase", "passcode", "secret", "token", "auth", "key", "credential",
    "sig", "salt", "cookie", "session", "dsn",
)
# Credentials in a URL always need an "@", which is rarer in logs than "://".
_URL_TRIGGERS = ("@",)
# An encoded URL with credentials or an encoded password with an "@" in it; other
# percent-encoded secrets carry their own prefix or name, which triggers anyway.
_PERCENT_TRIGGERS = ("%40",)
_PEM_TRIGGERS = ("-----begin",)


def _trie_regex(words: Iterable[str]) -> str:
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


def _literal_variants(literal: str) -> set[str]:
    """A literal as printed, URL-encoded and base64-encoded."""
    variants = {literal, quote(literal, safe=""), quote_plus(literal)}
    encoded = base64.b64encode(literal.encode()).decode()
    variants.add(encoded.rstrip("="))
    variants.update(_base64_fragments(literal))
    return {v for v in variants if len(v) >= MIN_LITERAL_LEN}


def _name_words(name: str) -> list[str]:
    return [w.lower() for w in _NAME_SPLIT.split(name.strip("-")) if w]


def _name_kind(name: str) -> tuple[str, bool] | None:
    """(placeholder kind, strong) for a secret-looking name, or None when the name is harmless.

    The secret word must end the name (DB_PASSWORD, CI_JOB_TOKEN) or be followed only by words
    such as _BASE or _VALUE: TOKEN_TYPE, PASSWORD_FILE or SECRET_DETECTION describe, not hold.
    """
    words = _name_words(name)
    if not words or any(w in _HARMLESS_WORDS for w in words):
        return None
    while len(words) > 1 and (words[-1] in _TRAILING_OK or words[-1].isdigit()):
        words = words[:-1]
    last = words[-1]
    pair = (words[-2], last) if len(words) > 1 else None
    if last in _PASSWORD_WORDS:
        return "password", True
    if "aws" in words and (last == "secretkey" or pair in {("secret", "key"), ("access", "key")} and "secret" in words):
        return "aws-secret-key", True
    if pair == ("api", "key") or last == "apikey":
        return "api-key", True
    if pair == ("private", "key") or last == "privatekey":
        return "private-key", True
    if pair in _STRONG_PAIRS or last in _STRONG_WORDS:
        if "token" in last:
            return "token", True
        if "credential" in last:
            return "credentials", True
        return "secret", True
    if last in _WEAK_WORDS:
        return last, False
    return None


_PASCAL_WORDS = re.compile(r"^(?:[A-Z][a-z0-9]+){3,}$")


def _not_an_assignment(match: re.Match[str]) -> bool:
    """Shapes that put a colon after a secret word without assigning a secret."""
    if match.group("op") != ":" or match.group("nq") or match.group("val")[0] in "\"'":
        return False
    name = match.group("name")
    if match.end("op") == match.start("val"):
        return True  # module:function, host:port; YAML and headers put a space after the colon
    if _name_words(name) == ["pass"]:
        return True  # "--- PASS: TestName" in go test output
    return bool(_PASCAL_WORDS.match(name))  # "AddUserAuthToken: migrating", a class name


def _unquote_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _is_placeholder(value: str) -> bool:
    if not value or value.lower() in _NULLISH:
        return True
    if set(value) <= _MASK_CHARS:
        return True
    if any(mark in value for mark in _ALREADY_MASKED):
        return True
    return bool(_REFERENCE.match(value))


def looks_random(value: str) -> bool:
    """A run that looks generated (a key or token) rather than a word, slug, version or path."""
    for run in _RANDOM_RUN.findall(value):
        classes = sum((any(c.islower() for c in run), any(c.isupper() for c in run), any(c.isdigit() for c in run)))
        if classes >= 2 and shannon_entropy(run) >= 3.3:
            return True
    return False


# Prefixed tokens first, so later rules see placeholders rather than half a token; URL
# credentials before percent-decoding, so "p%40ss" is never split at its decoded "@".
_ORDER = {
    "apply_rule": 0, "_redact_literals": 0, "apply_header_rule": 1, "_redact_url_credentials": 1, "_redact_base64": 2,
    "_redact_percent_encoded": 2, "_redact_assignments": 3,
}


def _apply_order(func: Callable[[str], str]) -> int:
    return _ORDER.get(getattr(func, "__name__", ""), 0)


class _LineState:
    """What one stream of lines carries from one line to the next."""

    __slots__ = ("pem_lines",)

    def __init__(self) -> None:
        self.pem_lines = 0  # > 0 while inside a PEM private key block


class Redactor:
    """Replaces secrets with typed placeholders; `redact_line` keeps state across the lines of one log."""

    def __init__(self, extra_patterns: Iterable[str] = (), literals: Iterable[str] = ()) -> None:
        self.extra_patterns: list[re.Pattern[str]] = []
        for pattern in extra_patterns:
            try:
                self.extra_patterns.append(re.compile(pattern))
            except re.error as exc:
                raise ValueError(f"REDACT_EXTRA_PATTERNS: bad pattern {pattern!r}: {exc}") from None
        variants: set[str] = set()
        for literal in literals:
            if literal and len(literal) >= MIN_LITERAL_LEN:
                variants |= _literal_variants(literal)
        # Longest first, so a literal is never half-replaced by a shorter one inside it.
        self._literals = sorted(variants, key=len, reverse=True)
        self._literal_re = (
            re.compile("|".join(re.escape(v) for v in self._literals)) if self._literals else None
        )
        self._dispatch: dict[str, list[Callable[[str], str]]] = {}
        triggers: set[str] = set()
        for rule in _TOKEN_RULES + _HEADER_RULES:
            applier = self._rule_applier(rule, header=rule in _HEADER_RULES)
            for trigger in rule.triggers:
                self._dispatch.setdefault(trigger, []).append(applier)
                triggers.add(trigger)
        for trigger in _KEYWORD_TRIGGERS:
            self._dispatch.setdefault(trigger, []).append(self._redact_assignments)
        for trigger in _URL_TRIGGERS:
            self._dispatch.setdefault(trigger, []).append(self._redact_url_credentials)
        for trigger in _B64_TRIGGERS:
            self._dispatch.setdefault(trigger, []).append(self._redact_base64)
        for trigger in _PERCENT_TRIGGERS:
            self._dispatch.setdefault(trigger, []).append(self._redact_percent_encoded)
        for literal in self._literals:
            self._dispatch.setdefault(literal.lower(), []).append(self._redact_literals)
        triggers |= set(self._dispatch) | set(_PEM_TRIGGERS)
        # The trie pre-filter reports the shortest trigger at a place and skips what it covered, so
        # a found trigger stands for the triggers inside it ("-token" holds "token") and for the
        # longer ones it begins ("sig" may be "sig=").
        closed: dict[str, list[Callable[[str], str]]] = {}
        for trigger in triggers:
            funcs: list[Callable[[str], str]] = []
            for other, other_funcs in self._dispatch.items():
                if other in trigger or other.startswith(trigger):
                    funcs.extend(f for f in other_funcs if f not in funcs)
            funcs.sort(key=_apply_order)
            closed[trigger] = funcs
        self._dispatch = closed
        self._prefilter = re.compile(_trie_regex(triggers))
        self._appliers_cache: dict[frozenset[str], list[Callable[[str], str]]] = {}
        self._state = _LineState()
        self.counts: Counter[str] = Counter()  # placeholders written, by kind

    @classmethod
    def from_settings(cls, settings: Any) -> "Redactor":
        return cls(settings.redact_extra_patterns, settings.redact_literals)

    # --- public API ----------------------------------------------------------------------
    def redact_line(self, line: str) -> str:
        """One log line, in order; a PEM key block spanning lines is replaced line by line."""
        return self._line(line, self._state)

    def redact_text(self, text: str) -> str:
        """A whole string (a model answer, MR text, a Slack message, a log chunk)."""
        return self._lines(text, _LineState())

    def reset(self) -> None:
        """Forget multi-line state (start of a new log)."""
        self._state = _LineState()

    # --- the line pipeline ----------------------------------------------------------------
    def _line(self, line: str, state: _LineState) -> str:
        if state.pem_lines:
            return self._inside_pem(line, state)
        if self.extra_patterns:
            line = self._redact_extra(line)
        low = line.lower()
        if not self._prefilter.search(low):
            return line
        if "-----begin" in low and _PEM_BEGIN.search(line):
            line = self._start_pem(line, state)
            if state.pem_lines:
                return line
        for func in self._appliers_for(line.lower()):
            line = func(line)
        return line

    def _lines(self, text: str, state: _LineState) -> str:
        """Redact many lines, touching only the lines the pre-filter points at."""
        if self.extra_patterns or not text.isascii():
            # Operator patterns have no pre-filter; a few characters change length when lowered,
            # and one wide character makes the whole string slow to scan.
            return "\n".join(self._line(part, state) for part in text.split("\n"))
        low = text.lower()
        out: list[str] = []
        pos = 0
        size = len(text)
        while pos <= size:
            if state.pem_lines:
                if pos == size:
                    break  # nothing after the last newline yet
                start = pos
            else:
                match = self._prefilter.search(low, pos)
                if match is None:
                    break
                start = text.rfind("\n", 0, match.start()) + 1
            end = text.find("\n", start)
            if end == -1:
                end = size
            out.append(text[pos:start])
            out.append(self._line(text[start:end], state))
            pos = end
            if pos < size:
                out.append("\n")
            pos += 1
        if pos <= size:
            out.append(text[pos:])
        return "".join(out)

    def _appliers_for(self, low: str) -> list[Callable[[str], str]]:
        key = frozenset(self._prefilter.findall(low))
        cached = self._appliers_cache.get(key)
        if cached is not None:
            return cached
        found: list[Callable[[str], str]] = []
        for trigger in key:
            for func in self._dispatch.get(trigger, ()):
                if func not in found:
                    found.append(func)
        found.sort(key=_apply_order)
        if len(self._appliers_cache) < 4096:
            self._appliers_cache[key] = found
        return found

    # --- PEM private keys -----------------------------------------------------------------
    def _start_pem(self, line: str, state: _LineState) -> str:
        def one_line(match: re.Match[str]) -> str:
            rest = match.group(0)[_PEM_BEGIN.match(match.group(0)).end():]  # type: ignore[union-attr]
            if not _PEM_END.search(rest) and _PEM_BODY.match(rest):
                state.pem_lines = 1  # the key's body follows on the next lines
            return self._mark("private-key")

        return _PEM_ONE_LINE.sub(one_line, line)

    def _inside_pem(self, line: str, state: _LineState) -> str:
        end = _PEM_END.search(line)
        if end:
            state.pem_lines = 0
            return self._mark("private-key") + self._line(line[end.end():], state)
        if not _PEM_BODY.match(line) or state.pem_lines > MAX_PEM_LINES:
            state.pem_lines = 0  # the block was cut short; this line is ordinary log again
            return self._line(line, state)
        state.pem_lines += 1
        return self._mark("private-key")

    # --- rule families --------------------------------------------------------------------
    def _mark(self, kind: str) -> str:
        self.counts[kind] += 1
        return placeholder(kind)

    def _rule_applier(self, rule: _TokenRule, header: bool = False) -> Callable[[str], str]:
        def replace(match: re.Match[str]) -> str:
            secret = match.group(rule.group)
            if secret is None or rule.check is not None and not rule.check(secret):
                return match.group(0)
            if rule.group == 0:
                return self._mark(rule.kind)
            start, end = match.span(rule.group)
            base = match.start()
            whole = match.group(0)
            return whole[: start - base] + self._mark(rule.kind) + whole[end - base:]

        def apply_rule(line: str) -> str:
            return rule.pattern.sub(replace, line)

        if header:
            apply_rule.__name__ = "apply_header_rule"
        return apply_rule

    def _redact_url_credentials(self, line: str) -> str:
        if "@" not in line:
            return line

        def replace(match: re.Match[str]) -> str:
            password = match.group(2)
            if _is_placeholder(password) or match.group(1).endswith("[REDACTED"):
                return match.group(0)
            return f"{match.group(1)}:{self._mark('password')}@"

        return _URL_CREDENTIALS.sub(replace, line)

    def _redact_assignments(self, line: str) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group("sp") is not None and not match.group("flag"):
                return match.group(0)  # "password reset" is prose; only --flag value takes a space
            if _not_an_assignment(match):
                return match.group(0)
            named = _name_kind(match.group("name"))
            if named is None:
                return match.group(0)
            kind, strong = named
            raw = match.group("val")
            value = _unquote_value(raw)
            if _is_placeholder(value) or _DOTTED_IDENTIFIER.match(value):
                return match.group(0)
            if _PATH_VALUE.match(value) and not any(looks_random(part) for part in value.split("/")):
                return match.group(0)
            if line[match.end():match.end() + 1] in ("(", "[") or len(value) < 3:
                return match.group(0)  # echoed source code (f(x), ref[i], minified e.token=i)
            if value.isdigit() and len(value) < (4 if kind in ("password", "secret") else 12):
                return match.group(0)  # "tries to enter a password: 3", max_token=4096: counts
            if kind not in ("password", "secret") and len(value) < 8:
                return match.group(0)  # the runner prints a token's first characters (token=64_Abc)
            if not strong and not looks_random(value) and not self._hides_secret(value):
                return match.group(0)
            quote_char = raw[0] if raw != value else ""
            start = match.start("val") - match.start()
            return match.group(0)[:start] + quote_char + self._mark(kind) + quote_char

        return _ASSIGNMENT.sub(replace, line)

    def _hides_secret(self, value: str) -> bool:
        decoded = _decode_base64(value)
        return decoded is not None and bool(_USER_PASS.match(decoded))

    def _redact_base64(self, line: str) -> str:
        def replace(match: re.Match[str]) -> str:
            decoded = _decode_base64(match.group(0))
            if decoded is None:
                return match.group(0)
            found = _PLACEHOLDER_RE.search(self._lines(decoded, _LineState()))
            return self._mark(found.group(1)) if found else match.group(0)

        return _BASE64_RUN.sub(replace, line)

    def _redact_percent_encoded(self, line: str) -> str:
        def replace(match: re.Match[str]) -> str:
            encoded = match.group(0)
            decoded = unquote(encoded)
            cleaned = self._lines(decoded, _LineState())
            return encoded if cleaned == decoded else cleaned

        return _PERCENT_RUN.sub(replace, line)

    def _redact_literals(self, line: str) -> str:
        assert self._literal_re is not None
        return self._literal_re.sub(lambda m: self._mark("custom"), line)

    def _redact_extra(self, line: str) -> str:
        for pattern in self.extra_patterns:
            def replace(match: re.Match[str]) -> str:
                if match.re.groups and match.group(1) is not None:
                    start, end = match.span(1)
                    whole = match.group(0)
                    base = match.start()
                    return whole[: start - base] + self._mark("custom") + whole[end - base:]
                return self._mark("custom")

            line = pattern.sub(replace, line)
        return line


def _decode_base64(value: str) -> str | None:
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


class StreamRedactor:
    """Chunk-level redaction: feed() returns what is safe to emit, flush() the rest."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.redactor = redactor or Redactor()
        self._state = _LineState()
        self._pending = ""

    def feed(self, chunk: str) -> str:
        self._pending += chunk
        cut = self._pending.rfind("\n")
        if cut == -1:
            if len(self._pending) <= MAX_PENDING_CHARS:
                return ""
            cut = self._safe_cut(self._pending)
            if cut <= 0:
                return ""
            ready, self._pending = self._pending[:cut], self._pending[cut:]
            return self.redactor._lines(ready, self._state)
        ready, self._pending = self._pending[: cut + 1], self._pending[cut + 1:]
        return self.redactor._lines(ready, self._state)

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return self.redactor._lines(rest, self._state) if rest else ""

    @staticmethod
    def _safe_cut(text: str) -> int:
        """A space well before the end, not right after a secret-looking name (its value may follow)."""
        limit = len(text) - 4096
        cut = text.rfind(" ", 0, max(limit, 0))
        while cut > 0 and _SAFE_CUT_TAIL.search(text, max(0, cut - 80), cut):
            cut = text.rfind(" ", 0, cut)
        return cut
