"""Secrets in a language's printed value (Go's %+v, Scala's Map) and secrets written before their name (pure)."""

from __future__ import annotations

from bot.core.redact_names import NAME_VALUE_TRIGGERS
from bot.core.redact_tokens import TokenRule, generated, not_masked, rule

_NAME = r"([A-Za-z_][\w.\-]{1,80})"
# A secret's noun in prose, case by case (not under (?i): see redact_printed._NOUN).
_NOUN = (
    r"(?:[Pp]ass(?:word|phrase)|PASS(?:WORD|PHRASE)|(?:[Aa]pi|API)[ _-]?(?:[Kk]ey|KEY|[Tt]oken|TOKEN)|[Tt]oken|TOKEN"
    r"|[Ss]ecret|SECRET|[Aa]ccess [Kk]ey|[Pp]rivate [Kk]ey)"
)

DUMP_RULES: tuple[TokenRule, ...] = (
    # Go's `%+v` of a struct: `{User:ci Password:X Host:db}`, `&{… APIKey:X}`: an exported field, a colon, no space
    # (elsewhere `name:value` without a space is module:function or host:port, so only inside the braces).
    rule(
        "secret",
        r"[{ ]([A-Z][A-Za-z0-9]{1,60}):([^\s{}\[\]\"'\x00-\x1f]{3,256})(?=[ }])",
        NAME_VALUE_TRIGGERS,
        group=2,
        check=not_masked,
        named=1,
        needs=("{",),
        weak_needs_random=True,
    ),
    # PHP's print_r of an array: `    [db_password] => X`, one element a line.
    rule(
        "secret",
        r"^\s*\[" + _NAME + r"\] => ([^\s\"'\x00-\x1f]{3,256})\s*$",
        NAME_VALUE_TRIGGERS,
        group=2,
        check=not_masked,
        named=1,
        needs=("] => ",),
        weak_needs_random=True,
    ),
    # Scala's Map and Kotlin's Pair printed: `Map(apiKey -> X, region -> eu)`; a generated value only (a parser's
    # debug output prints `token -> IDENT`).
    rule(
        "secret",
        r"(?<![\w.\-\"'])" + _NAME + r" -> ([^\s,()\[\]\"'\x00-\x1f]{6,256})(?=[,)\s\x1b]|$)",
        NAME_VALUE_TRIGGERS,
        group=2,
        check=generated,
        named=1,
        needs=(" -> ",),
    ),
    # The value before its name: `using X for DB_PASSWORD`, `Setting X as GITHUB_TOKEN`, `value X for key API_TOKEN`
    # (a generated value only: "using cache for token lookups" is prose).
    rule(
        "secret",
        r"(?=[UuSsVv])\b(?:[Uu]sing|[Ss]etting|[Ss]et|[Vv]alue)\s+[\"'`]?([^\s\"'`]{8,200}?)[\"'`]?\s+(?:for|as)\s+"
        r"(?:the\s+)?(?:(?:key|variable|env|secret)\s+)?[\"'`$]?" + _NAME,
        NAME_VALUE_TRIGGERS,
        group=1,
        check=generated,
        named=2,
        needs=(" for ", " as "),
    ),
    # `X is the API token`, `X is your password`.
    rule(
        "secret",
        r"(?<![^\s\"'`(:=])[\"'`]?([^\s\"'`]{8,200}?)[\"'`]?\s+is\s+(?:the|your|my|our)\s+(?:new\s+)?" + _NOUN + r"\b",
        ("passw", "passphrase", "token", "secret", "key"),
        group=1,
        check=generated,
        needs=(" is ",),
    ),
)
