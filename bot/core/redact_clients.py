"""Secrets in login calls' and chat webhooks' own forms, and R's `<-` (pure).

Facts about documented formats; the rules run with the header rules (redact_rules.HEADER_RULES), after the tools'."""

from __future__ import annotations

from bot.core.redact_names import NAME_VALUE_TRIGGERS
from bot.core.redact_tokens import TokenRule, generated, not_masked, rule
from bot.core.redact_tools import tool_flag


def _generated_part(path: str) -> bool:
    return any(generated(part) for part in path.split("/"))


CLIENT_RULES: tuple[TokenRule, ...] = (
    # A login call with the password as its second literal argument: smtplib's and ftplib's `login('user', 'X')`,
    # as a traceback quotes the failing line.
    rule(
        "password",
        r"\.login\(\s*[^,()\n]{1,120},\s*([\"'])([^\"'\n]{3,})\1\s*\)",
        ("login(",),
        group=2,
        check=not_masked,
    ),
    # R's assignment arrow (`db_password <- "X"`, `<<-`), by the variable's name; a call (`Sys.getenv(...)`) is
    # not quoted, so never read.
    rule(
        "secret",
        r"(?<![\w.])([A-Za-z.][\w.]{0,80})\s*<<?-\s*([\"'])([^\"'\n]{3,})\2",
        NAME_VALUE_TRIGGERS,
        group=3,
        check=not_masked,
        named=1,
        needs=("<-",),
        weak_needs_random=True,
    ),
    # HTTPie's `http -a user:password URL` (`https`, `--auth`), the flag right after the command.
    rule(
        "password",
        r"\bhttps?\s+(?:-a|--auth)[\s=]+([\"']?)[^\s:\"']{1,64}:([^\s\"']{3,})\1",
        ("http -a", "https -a", "http --auth", "https --auth"),
        group=2,
        check=not_masked,
    ),
    # Neo4j's cypher-shell, Sybase/unixODBC's isql, NcFTP's clients: their own password flags.
    tool_flag("password", r"cypher-shell", r"(?:-p|--password)[\s=]+", ("cypher-shell",)),
    tool_flag("password", r"isql", r"-P\s*", ("isql ",), no_dash=True),
    tool_flag("password", r"ncftp(?:put|get|ls|batch)?", r"-p\s+", ("ncftp",), no_dash=True),
    # `echo X | vault login -`: Vault reads the token from standard input (set -x prints the echo).
    rule(
        "token",
        r"\b(?:echo|printf)\s+(?:-[neE]{1,3}\s+)?(?:([\"'])%s(?:\\n)?\1\s+)?([\"']?)([^\s\"'|;&$]{8,})\2\s*\|\s*(?:vault|bao)\s+login\s+"
        r"(?:-\S+\s+){0,6}-(?=\s|$)",
        ("vault login", "bao login"),
        group=3,
        check=not_masked,
    ),
    # Chat webhooks whose path is the secret: Mattermost's and Rocket.Chat's `/hooks/ID[/TOKEN]`, Feishu's and Lark's
    # `/bot/v2/hook/ID`. Only in a URL (`scheme://host/...`) or an HTTP request line (`POST /hooks/ID HTTP/1.1`): a
    # source tree's `src/hooks/useAuth0Provider.ts` is a file, as is anything followed by a file extension; and a
    # generated value only (`.git/hooks/pre-commit`).
    rule(
        "token",
        r"(?:://[^\s/?#]{1,253}(?:/[^\s/?#]{1,128}){0,4}?|\b(?:POST|GET|PUT) )"
        r"/hooks?/([A-Za-z0-9_\-]{16,128}(?:/[A-Za-z0-9_\-]{17,128})?)(?![\w\-/]|\.\w)",
        ("hook/", "hooks/"),
        group=1,
        check=_generated_part,
        needs=("/hook",),
    ),
)
