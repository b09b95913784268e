"""What a secret looks like: token formats, key/value forms, secret-looking names, the pre-filter's words (pure)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.core.redact_forms import decode_base64, trie_regex

PLACEHOLDER = "[REDACTED:{kind}]"

# A PEM block that never shows its END line would otherwise swallow the rest of the log.
MAX_PEM_LINES = 400
# The streaming redactor holds back an unfinished line; past this size it cuts at a space.
MAX_PENDING_CHARS = 256 * 1024


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
GITLAB_PREFIXES = (
    "glpat",
    "gloas",
    "gldt",
    "glrt",
    "glrtr",
    "glcbt",
    "glptt",
    "glft",
    "glimt",
    "glagent",
    "glsoat",
    "glffct",
    "glwt",
    "glsat",
)


# A secret-looking variable name holds one of these (the name/value pair rule runs only then).
NAME_VALUE_TRIGGERS = ("key", "passw", "_pass", "pwd", "secret", "token", "auth", "credential")
# Between a key id and its secret: a colon (URL user info), "=", spaces, commas, quotes, pipes (a table).
KEY_PAIR_SEPARATOR = r"(?:[\s:=,;|'\"]|%3[Aa]){1,6}"


def mixed(value: str) -> bool:
    """Generated keys mix digits with both letter cases; prose and slugs rarely do."""
    return any(c.isdigit() for c in value) and any(c.isupper() for c in value) and any(c.islower() for c in value)


@dataclass(frozen=True)
class TokenRule:
    kind: str
    pattern: re.Pattern[str]
    triggers: tuple[str, ...]  # lower-case fragments; the rule only runs on lines holding one
    group: int = 0  # the part of the match that is the secret
    check: Callable[[str], bool] | None = None
    named: int = 0  # a group holding a variable name that must look secret (0: none)


def rule(
    kind: str,
    pattern: str,
    triggers: Iterable[str],
    group: int = 0,
    check: Callable[[str], bool] | None = None,
    flags: int = 0,
    named: int = 0,
) -> TokenRule:
    return TokenRule(kind, re.compile(pattern, flags), tuple(triggers), group, check, named)


TOKEN_RULES: tuple[TokenRule, ...] = (
    rule(
        "gitlab-token",
        r"(?<![\w-])(?:" + "|".join(GITLAB_PREFIXES) + r")-[0-9A-Za-z_\-]{15,}(?:\.[0-9A-Za-z_\-]+)*",
        (p + "-" for p in GITLAB_PREFIXES),
    ),
    rule("gitlab-token", r"\bGR1348941[0-9A-Za-z_\-]{20,}", ("gr1348941",)),
    rule("slack-token", r"\bxox[abposre]-[0-9A-Za-z\-]{10,}", ("xox",)),
    rule("slack-token", r"\bxapp-\d-[0-9A-Za-z\-]{10,}", ("xapp-",)),
    rule(
        "slack-webhook",
        r"hooks\.slack\.com/((?:services|workflows|triggers)/[0-9A-Za-z_/\-]+)",
        ("hooks.slack",),
        group=1,
    ),
    # A cloud key id printed with its secret right after it (id:secret@host in a URL, "id secret" in a table):
    # the secret has no prefix of its own, so the id before it is what gives it away. Before the id's own rule.
    rule(
        "aws-secret-key",
        r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}" + KEY_PAIR_SEPARATOR + r"([0-9A-Za-z/+]{40})(?![0-9A-Za-z/+])",
        ("akia", "asia", "abia", "acca"),
        group=1,
        check=lambda v: looks_random(v),
    ),
    rule(
        "cloud-secret-key",
        r"\b(?:LTAI[0-9A-Za-z]{12,20}|AKID[0-9A-Za-z]{32}|GOOG1[0-9A-Z]{20,70})"
        + KEY_PAIR_SEPARATOR
        + r"([0-9A-Za-z/+]{30,40})(?![0-9A-Za-z/+])",
        ("ltai", "akid", "goog1"),
        group=1,
        check=lambda v: looks_random(v),
    ),
    rule("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b", ("akia", "asia", "abia", "acca")),
    rule("gcp-api-key", r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])", ("aiza",)),
    rule("anthropic-key", r"\bsk-ant-[0-9A-Za-z_\-]{20,}", ("sk-",)),
    rule("openai-key", r"\bsk-(?:proj-|svcacct-|admin-|None-)?[0-9A-Za-z_\-]{20,}", ("sk-",), check=mixed),
    rule("github-token", r"\bgh[pousr]_[0-9A-Za-z]{36,255}\b", ("ghp_", "gho_", "ghs_", "ghu_", "ghr_")),
    rule("github-token", r"\bgithub_pat_[0-9A-Za-z_]{22,255}\b", ("github_pat_",)),
    rule("npm-token", r"\bnpm_[0-9A-Za-z]{36}\b", ("npm_",)),
    rule("pypi-token", r"\bpypi-[0-9A-Za-z_\-]{50,}", ("pypi-",)),
    rule("jwt", r"\beyJ[0-9A-Za-z_\-]{8,}\.eyJ[0-9A-Za-z_\-]{8,}\.[0-9A-Za-z_\-]*", ("eyj",)),
    rule(
        "azure-storage-key",
        r"(?i)\b(?:AccountKey|SharedAccessKey)=([0-9A-Za-z+/]{20,}={0,2})",
        ("accountkey", "sharedaccesskey"),
        group=1,
    ),
    rule("azure-sas", r"(?i)\bSharedAccessSignature=([^\s;\"']+)", ("sharedaccesssignature",), group=1),
    rule("azure-sas", r"[?&]sig=([0-9A-Za-z%+/=]{16,})", ("sig=",), group=1),
)

# --- key: value forms --------------------------------------------------------------------
HEADER_VALUE = r"([^\s\"',;]+)"


def not_masked(value: str) -> bool:
    return not is_placeholder(value)


HEADER_RULES: tuple[TokenRule, ...] = (
    rule(
        "authorization",
        r"(?i)\b(?:proxy-)?authorization\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|bot|digest|negotiate|apikey|sso-key|gitlab-ci-token)\s+)?"
        + HEADER_VALUE,
        ("authorization",),
        group=1,
        check=not_masked,
    ),
    rule(
        "token",
        r"(?i)\b(?:private|job|deploy)-token\s*:\s*" + HEADER_VALUE,
        ("private", "-token"),
        group=1,
        check=not_masked,
    ),
    rule(
        "api-key",
        r"(?i)\b(?:x-api-key|api-key|x-auth-token|x-gitlab-token|x-vault-token|x-access-token)\s*:\s*" + HEADER_VALUE,
        ("key", "token"),
        group=1,
        check=not_masked,
    ),
    rule("cookie", r"(?i)\b(?:set-)?cookie\s*:\s*([^\"'\n]+?)\s*(?=[\"']|$)", ("cookie",), group=1, check=not_masked),
    rule(
        "aws-secret-key",
        r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]?\s*[\"']?([0-9A-Za-z/+]{40})(?![0-9A-Za-z/+])",
        ("secret",),
        group=1,
    ),
    # curl -u user:password, wget --user=...: the part after the colon.
    rule(
        "password",
        r"(?:^|\s)(?:-u|--user)(?:=|\s+)[\"']?[^\s:\"']+:([^\s\"']+)",
        ("-u ", "--user"),
        group=1,
        check=lambda v: not v.isdigit() and not is_placeholder(v),
    ),
    # <password>...</password> in Maven settings.xml and friends.
    rule(
        "password",
        r"(?i)<((?:\w+[_.\-]?)?(?:password|passphrase|secret|token|apikey|api-key))>([^<\s][^<]*)</\1>",
        ("password>", "passphrase>", "secret>", "token>", "apikey>", "api-key>"),
        group=2,
        check=not_masked,
    ),
    # `mysql -uroot -pSECRET`: the password glued to -p, only in the MySQL clients.
    rule(
        "password",
        r"\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^|;&]*?\s-p([^\s\"']{3,})",
        ("sql", "adb"),  # in mysql and mariadb; a new first letter would slow the pre-filter on every line
        group=1,
        check=not_masked,
    ),
    # GitHub Actions' `::add-mask::VALUE` names a value as secret (the runner hides it, but not its re-prints).
    rule("secret", r"::add-mask::\s*(\S[^\n]*?)\s*$", ("add-mask",), group=1, check=not_masked),
    # <add key="ApiKey" value="..."/> (.NET config), {"name": "DB_PASSWORD", "value": "..."} (env lists).
    rule(
        "secret",
        r"(?i)[\"']?\b(?:key|name)[\"']?\s*[=:]\s*[\"']([\w.\-]+)[\"']\s*,?\s*[\"']?value[\"']?\s*[=:]\s*[\"']([^\"'\n]+)[\"']",
        NAME_VALUE_TRIGGERS,  # the name holds one of these; "value" itself is too common a word
        group=2,
        check=not_masked,
        named=1,
    ),
    # `docker login -u x -p secret`: a short flag that is a password only in a login command.
    rule(
        "password",
        r"(?i)\blogin\b.*?\s(?:-p|--password)(?:=|\s+)(\"[^\"]*\"|'[^']*'|[^\s\"']+)",
        ("login",),
        group=1,
        check=not_masked,
    ),
)

URL_CREDENTIALS = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@\"'<>]*):([^/\s@\"'<>]+)@")

PEM_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
PEM_END = re.compile(r"-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
# What may stand on a line inside a PEM block: base64, the legacy headers, quotes and escapes.
PEM_BODY = re.compile(
    r"^[\s\"'\\n,]*(?:[0-9A-Za-z+/=]{1,128}|(?:Proc-Type|DEK-Info|Comment|Version):[^\n]*)?[\s\"'\\n,]*$"
)
PEM_ONE_LINE = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)"
)

# Name fragments that make an assignment worth a look; the name is then checked word by word.
SECRET_NAME_FRAGMENTS = ("pass", "pwd", "passphrase", "secret", "token", "auth", "key", "credential", "sig", "salt")
SECRET_NAME_FRAGMENTS += ("cookie", "session", "dsn")
SECRET_NAME_FRAGMENT = "(?:" + "|".join(SECRET_NAME_FRAGMENTS) + ")"
ASSIGNMENT = re.compile(
    r"(?<![\w.\-])(?P<flag>--?)?(?P<name>[A-Za-z0-9_.\-]*" + SECRET_NAME_FRAGMENT + r"[A-Za-z0-9_.\-]*)"
    r"(?P<nq>[\"']?)(?:\s*(?P<op>:=|=>|[:=])(?![=:/])\s*|(?P<sp>[ \t]+))"
    r"(?P<val>\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[^\s\"',;&<>(){}\[\]|\x00-\x1f]+)",
    re.IGNORECASE,
)
# What ASSIGNMENT's name is made of, and its fragments in a lower-cased ASCII line.
NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
NAME_FRAGMENT_LOWER = re.compile(trie_regex(SECRET_NAME_FRAGMENTS))
NAME_RUN = re.compile(r"[A-Za-z0-9_.\-]*")
# What may follow a whole name in ASSIGNMENT (an ASCII line): a quote, ":", "=" or white space.
AFTER_NAME = frozenset("\"':= \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")


def sub_assignments(replace: Callable[[re.Match[str]], str], line: str) -> str:
    """ASSIGNMENT.sub(replace, line), without trying the pattern at every character of an ASCII line.

    A match starts where a run of name characters starts (nothing of a word, "." or "-" before it) and that run
    holds a fragment: so only the start of each run holding one is tried. Other lines (rare) take the plain sub,
    as a few non-ASCII letters match the fragments' letters when the case is ignored."""
    if not line.isascii():
        return ASSIGNMENT.sub(replace, line)
    low = line.lower()
    out: list[str] = []
    done = pos = 0  # done: how far out covers; pos: where the next fragment is looked for
    size = len(line)
    while (found := NAME_FRAGMENT_LOWER.search(low, pos)) is not None:
        # No other match starts inside this run of name characters: the character before each is one.
        pos = NAME_RUN.match(line, found.end()).end()  # type: ignore[union-attr]
        if pos == size or line[pos] not in AFTER_NAME:
            continue  # the name is the whole run, and nothing that assigns follows it
        start = found.start()
        while start > done and line[start - 1] in NAME_CHARS:
            start -= 1
        match = ASSIGNMENT.match(line, start)
        if match is None:
            continue
        out.append(line[done : match.start()])
        out.append(replace(match))
        done = pos = match.end()
    if not out:
        return line
    out.append(line[done:])
    return "".join(out)


NAME_SPLIT = re.compile(r"[_.\-]+|(?<=[a-z0-9])(?=[A-Z])")

# A compound word ending so holds a password (PGPASSWORD, KEYSTOREPASSWORD); "pass" alone is too short a tail
# (bypass, compass).
PASSWORD_ENDINGS = ("password", "passwd", "passphrase")
# Harmless beside a key, but the holder of a secret token, password or credential (REGISTRY_TOKEN, OAUTH_SECRET).
HOLDER_WORDS = frozenset({"registry", "oauth", "group", "package"})
# One-word names ending in secret or token that hold neither.
NOT_SECRET_WORDS = frozenset({"tokens", "detokenize", "pretoken", "nosecret"})
PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pass", "passphrase", "passcode", "pw"})
STRONG_WORDS = PASSWORD_WORDS | frozenset(
    {
        "secret",
        "secrets",
        "token",
        "credential",
        "credentials",
        "apikey",
        "authtoken",
        "accesstoken",
        "refreshtoken",
        "clientsecret",
        "privatekey",
        "secretkey",
        "accesskey",
    }
)
STRONG_PAIRS = frozenset(
    {
        ("api", "key"),
        ("access", "key"),
        ("secret", "key"),
        ("private", "key"),
        ("signing", "key"),
        ("master", "key"),
        ("encryption", "key"),
        ("client", "secret"),
        ("auth", "token"),
        ("auth", "key"),
    }
)
WEAK_WORDS = frozenset({"key", "auth", "sig", "signature", "salt", "cookie", "session", "dsn"})
# Words that may follow the secret word in a name that still holds the secret (SECRET_KEY_BASE).
TRAILING_OK = frozenset(
    {
        "value",
        "val",
        "plain",
        "raw",
        "b64",
        "base64",
        "json",
        "base",
        "enc",
        "encoded",
        "str",
        "string",
        "text",
        "hex",
        "data",
        "prod",
        "production",
        "staging",
        "dev",
        "ci",
        "rw",
        "ro",
    }
)
# Words that, anywhere in the name, say the key is not a secret at all.
HARMLESS_WORDS = frozenset(
    {
        "cache",
        "sort",
        "primary",
        "foreign",
        "partition",
        "public",
        "group",
        "idempotency",
        "lookup",
        "dedup",
        "registry",
        "map",
        "keys",
        "hotkey",
        "keyboard",
        "keyring",
        "keyserver",
        "keygen",
        "author",
        "authors",
        "authority",
        "oauth",
        "tokens",
        "tokenizer",
        "signal",
        "signed",
        "design",
        "sessions",
        "max",
        "min",
        "num",
        "count",
        "package",
    }
)

REFERENCE = re.compile(r"^(?:\$|`|%[A-Za-z_]|\{\{|<[^>]*>$|\{[A-Za-z_]\w*\}$)")
NULLISH = frozenset({"null", "none", "nil", "true", "false", "yes", "no", "undefined", "on", "off", "n/a", "-"})
MASK_CHARS = frozenset("*xX.#-_•")
ALREADY_MASKED = ("[MASKED]", "[REDACTED", "[FILTERED]", "<redacted>", "(redacted)", "[HIDDEN]", "<hidden>")
DOTTED_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
PATH_VALUE = re.compile(r"^(?:~|\.{1,2})?/(?:[\w.\-]+/)*[\w.\-]*$")
PLACEHOLDER_RE = re.compile(r"\[REDACTED:([a-z0-9\-]+)\]")
SAFE_CUT_TAIL = re.compile(SECRET_NAME_FRAGMENT + r"[\w.\-]*[\"']?\s*[:=]?\s*$", re.IGNORECASE)
RANDOM_RUN = re.compile(r"[0-9A-Za-z+/=_\-]{16,}")
BASE64_RUN = re.compile(r"(?<![0-9A-Za-z+/_\-])[0-9A-Za-z+/_\-]{16,}={0,2}")
PERCENT_RUN = re.compile(r"[0-9A-Za-z%._~+\-/:@=&?]*%[0-9A-Fa-f]{2}[0-9A-Za-z%._~+\-/:@=&?]*")
USER_PASS = re.compile(r"^[^\s:]{1,64}:\S{3,}$")

KEYWORD_TRIGGERS = (
    "passw",
    "_pass",
    "pass=",
    "pass:",
    'pass"',
    "pwd",
    "passphrase",
    "passcode",
    "secret",
    "token",
    "auth",
    "key",
    "credential",
    "sig",
    "salt",
    "cookie",
    "session",
    "dsn",
)
# Credentials in a URL always need an "@", which is rarer in logs than "://".
URL_TRIGGERS = ("@",)
# An encoded URL with credentials or an encoded password with an "@" in it; other
# percent-encoded secrets carry their own prefix or name, which triggers anyway.
PERCENT_TRIGGERS = ("%40",)
PEM_TRIGGERS = ("-----begin",)


def name_words(name: str) -> list[str]:
    return [w.lower() for w in NAME_SPLIT.split(name.strip("-")) if w]


def name_kind(name: str) -> tuple[str, bool] | None:
    """(placeholder kind, strong) for a secret-looking name, or None when the name is harmless.

    The secret word must end the name (DB_PASSWORD, CI_JOB_TOKEN) or be followed only by words
    such as _BASE or _VALUE: TOKEN_TYPE, PASSWORD_FILE or SECRET_DETECTION describe, not hold.
    """
    words = name_words(name)
    if not words:
        return None
    while len(words) > 1 and (words[-1] in TRAILING_OK or words[-1].isdigit()):
        words = words[:-1]
    last = words[-1]
    pair = (words[-2], last) if len(words) > 1 else None
    if last in PASSWORD_WORDS or last.endswith(PASSWORD_ENDINGS):
        return "password", True  # CI_REGISTRY_PASSWORD, PGPASSWORD: a password whatever comes before it
    if any(w in HARMLESS_WORDS and w not in HOLDER_WORDS for w in words):
        return None  # PublicKeyToken, cache_key, sort_key: named for what they are not
    if last in ("secret", "secrets", "token") or last.endswith(("secret", "token")) and last not in NOT_SECRET_WORDS:
        return ("token" if last.endswith("token") else "secret"), True  # OAUTH_TOKEN, CI_REGISTRY_SECRET
    if last in ("credential", "credentials"):
        return "credentials", True
    if any(w in HARMLESS_WORDS for w in words):
        return None
    if "aws" in words and (last == "secretkey" or pair in {("secret", "key"), ("access", "key")} and "secret" in words):
        return "aws-secret-key", True
    if pair == ("api", "key") or last == "apikey":
        return "api-key", True
    if pair == ("private", "key") or last == "privatekey":
        return "private-key", True
    if pair in STRONG_PAIRS or last in STRONG_WORDS:
        if "token" in last:
            return "token", True
        if "credential" in last:
            return "credentials", True
        return "secret", True
    if last in WEAK_WORDS:
        return last, False
    return None


# A word just before a weak name that says the key is no secret ("cache key:", "cache from key:", "sort key =").
HARMLESS_BEFORE = re.compile(
    r"\b(?:cache|sort|primary|foreign|partition|lookup|public|group)(?:[ \t]+[a-z]{1,6}){0,2}[ \t]+$", re.IGNORECASE
)
# Dockerfile `ENV NAME value` and Windows `setx NAME value`: the forms where a space assigns.
DECLARATION = re.compile(r"(?:^|[\s:;&|])(?:ENV|setx)[ \t]+$")
# `- name: DB_PASSWORD` then `  value: ...` (Kubernetes, compose and CI env lists).
NAME_LINE = re.compile(r"^\s*(?:-\s+)?name:\s*[\"']?([A-Za-z0-9_.\-]+)[\"']?\s*$")
VALUE_LINE = re.compile(r"^(\s*value:\s*)([\"']?)([^\s\"']+)\2\s*$")

PASCAL_WORDS = re.compile(r"^(?:[A-Z][a-z0-9]+){3,}$")


def not_an_assignment(match: re.Match[str]) -> bool:
    """Shapes that put a colon after a secret word without assigning a secret."""
    if match.group("op") != ":" or match.group("nq") or match.group("val")[0] in "\"'":
        return False
    name = match.group("name")
    if match.end("op") == match.start("val"):
        return True  # module:function, host:port; YAML and headers put a space after the colon
    if name_words(name) == ["pass"]:
        return True  # "--- PASS: TestName" in go test output
    return bool(PASCAL_WORDS.match(name))  # "AddUserAuthToken: migrating", a class name


def unquote_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def is_placeholder(value: str) -> bool:
    if not value or value.lower() in NULLISH:
        return True
    if set(value) <= MASK_CHARS or value.count("*") * 2 >= len(value):
        return True  # also the last characters shown after a mask (aws configure list: ****************YKEY)
    if any(mark in value for mark in ALREADY_MASKED):
        return True
    return bool(REFERENCE.match(value))


def looks_random(value: str) -> bool:
    """A run that looks generated (a key or token) rather than a word, slug, version or path."""
    for run in RANDOM_RUN.findall(value):
        classes = sum((any(c.islower() for c in run), any(c.isupper() for c in run), any(c.isdigit() for c in run)))
        if classes >= 2 and shannon_entropy(run) >= 3.3:
            return True
    return False


def hides_secret(value: str) -> bool:
    """A base64 value that decodes to user:password."""
    decoded = decode_base64(value)
    return decoded is not None and bool(USER_PASS.match(decoded))
