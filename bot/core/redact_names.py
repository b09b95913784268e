"""Which variable, key and flag names hold a secret (DB_PASSWORD, CI_JOB_TOKEN), and which only describe one (pure)."""

from __future__ import annotations

import re

# A secret-looking variable name holds one of these (the name/value pair rules run only then).
NAME_VALUE_TRIGGERS = ("key", "passw", "_pass", "pwd", "secret", "token", "auth", "credential")

NAME_SPLIT = re.compile(r"[_.\-]+|(?<=[a-z0-9])(?=[A-Z])")

# A compound word ending so holds a password (PGPASSWORD, KEYSTOREPASSWORD); "pass" alone is too short a tail
# (bypass, compass).
# keytool's -srcstorepass; "userpass": a user and password pair (`userpass=ci:X`).
PASSWORD_ENDINGS = ("password", "passwd", "passphrase", "storepass", "keypass", "userpass")
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
        "authkey",  # tailscale up --authkey=X, ngrok's authtoken
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
# "authorization": fastlane match's --git_basic_authorization (base64 of user:password).
WEAK_WORDS = frozenset({"key", "auth", "authorization", "sig", "signature", "salt", "cookie", "session", "dsn"})
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
# Words after the secret word that name a copy or a generation of the same secret (DEPLOY_TOKEN_COPY, API_KEY_OLD,
# NPM_TOKEN_V2, DB_PASSWORD_PRIMARY): the name still holds it.
COPY_WORDS = frozenset(
    {"copy", "old", "new", "backup", "bak", "orig", "prev", "previous", "current", "next", "tmp", "temp", "alt"}
    | {"primary", "secondary", "rotated", "legacy"}
)
VERSION_WORD = re.compile(r"^v\d{1,3}$")
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
    while len(words) > 1 and (
        words[-1] in TRAILING_OK or words[-1].isdigit() or words[-1] in COPY_WORDS or VERSION_WORD.match(words[-1])
    ):
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
    if last == "pat" and len(words) > 1:
        return "token", False  # a personal access token (GITHUB_PAT); a pattern (EXCLUDE_PAT) when not generated
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
    if pair == ("secret", "id"):
        # Vault AppRole's secret_id is a secret; AWS' --secret-id names one (an ARN, prod/db): generated values only.
        return "secret", False
    return None
