"""Fake secrets of every shape, built at run time (the repository holds no token-shaped text), and their re-prints."""

from __future__ import annotations

import base64
import random
import string
from urllib.parse import quote

from bot.core.redact import Redactor, StreamRedactor
from tests.helpers import DATA

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
SHAPES = DATA / "redaction" / "planted_shapes.tsv"
_rng = random.Random(1313)


def streamed(text: str, size: int = 37) -> str:
    """The text through a StreamRedactor fed in chunks of `size` characters, as the log fetcher feeds it."""
    stream = StreamRedactor(Redactor())
    return "".join(stream.feed(text[i : i + size]) for i in range(0, len(text), size)) + stream.flush()


def rand(n: int, alphabet: str = ALNUM) -> str:
    """Random text; with letters and digits in the alphabet, always both cases and a digit, as generated keys are."""
    while True:
        value = "".join(_rng.choice(alphabet) for _ in range(n))
        if alphabet == UPPER_DIGITS or (
            any(c.isdigit() for c in value) and any(c.isupper() for c in value) and any(c.islower() for c in value)
        ):
            return value


# generator -> () -> (key id, secret)
GENERATORS = {
    "password": lambda: ("", rand(10) + "!" + rand(5)),
    "token": lambda: ("", rand(32)),
    "aws": lambda: ("AKIA" + rand(16, UPPER_DIGITS), rand(40, ALNUM + "/+")),
    "alibaba": lambda: ("LTAI" + rand(20), rand(30)),
    "tencent": lambda: ("AKID" + rand(32), rand(32)),
}


def planted_shapes() -> list[tuple[str, str, str]]:
    """(shape, secret, log text) for every row of the planted-shapes corpus; a row may span lines."""
    rows = []
    for raw in SHAPES.read_text().splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        shape, generator, template = raw.split("\t")
        key_id, secret = GENERATORS[generator]()
        rows.append(
            (
                shape,
                secret,
                template.replace("\\n", "\n").replace("\\r", "\r").replace("{id}", key_id).replace("{s}", secret),
            )
        )
    return rows


def encoded(secret: str) -> dict[str, str]:
    """How a secret is re-printed: `echo $X | base64` (with echo's newline), `base64 <<< ...`, URL-encoded, hex."""
    return {
        "base64": base64.b64encode((secret + "\n").encode()).decode(),
        "base64-bare": base64.b64encode(secret.encode()).decode().rstrip("="),
        "url": quote(secret, safe=""),
        "hex": secret.encode().hex(),
    }


def survivors(text: str, secrets: list[str]) -> list[str]:
    """The secrets, or encoded forms of them, still in text."""
    found = []
    for secret in secrets:
        for name, form in {"clear": secret, **encoded(secret)}.items():
            if form in text:
                found.append(f"{name}:{form}")
    return found


def leaky_log(token: str) -> str:
    """An env dump prints the token in clear near the top; 3,000 lines later, at the failure, it is re-printed."""
    return "\n".join(
        [
            "\x1b[0KRunning with gitlab-runner 17.5.0 (abc123)",
            "$ env | sort",
            "HOME=/root",
            f"\x1b[32mDEPLOY_TOKEN={token}\x1b[0m",
            "PATH=/usr/local/bin:/usr/bin",
            *(f"Step {i}/3000: compiling module_{i}.c" for i in range(3000)),
            "$ echo $DEPLOY_TOKEN | base64 && curl -fsS -H @auth.hdr https://deploy.example.com/api/releases",
            encoded(token)["base64"],
            f"curl: (22) The requested URL returned error: 401 (sent {encoded(token)['hex']})",
            "ERROR: Job failed: exit code 22",
        ]
    )
