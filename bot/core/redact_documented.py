"""Secrets in tools' documented shapes that no secret-looking name ends: Poetry's token variables, GitHub's
`TOKEN:x-oauth-basic@` URLs, kubeadm's bootstrap tokens (pure)."""

from __future__ import annotations

from bot.core.redact_tokens import TokenRule, generated, not_masked, rule

# The password GitHub documents for basic authentication with a token as the user name.
GITHUB_BASIC = "x-oauth-basic"

DOCUMENTED_RULES: tuple[TokenRule, ...] = (
    # Poetry reads a repository's token from POETRY_PYPI_TOKEN_<REPOSITORY>: the name ends in the repository.
    rule(
        "token",
        r"\bPOETRY_PYPI_TOKEN_\w+[\"']?\s*[:=]\s*([\"']?)([^\s\"']{8,})\1",
        ("poetry_pypi_token_",),
        group=2,
        check=not_masked,
    ),
    # GitHub's basic authentication with a token: the token is the user, the password the word "x-oauth-basic".
    rule(
        "token",
        r"://([^\s/:@\"'<>]{16,255}):x-oauth-basic@",
        ("x-oauth-basic@",),
        group=1,
        check=lambda v: not_masked(v) and generated(v),
    ),
    # kubeadm's bootstrap tokens, `[a-z0-9]{6}.[a-z0-9]{16}` (its id, then its secret), on a line naming a token and
    # kubeadm or a bootstrap token (`kubeadm join ... --token X`): "token" is already a pre-filter word, "kubeadm"
    # would be one more.
    rule(
        "token",
        r"(?<![\w.\-])[a-z0-9]{6}\.([a-z0-9]{16})(?![\w.\-])",
        ("token",),
        group=1,
        needs=("kubeadm", "bootstrap"),
        check=lambda v: any(c.isdigit() for c in v) and any(c.isalpha() for c in v),
    ),
)
