"""What a secret looks like: token formats, key/value forms, tools' password flags, the pre-filter's words (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.core.redact_clients import CLIENT_RULES
from bot.core.redact_commands import COMMAND_RULES
from bot.core.redact_documented import DOCUMENTED_RULES, GITHUB_BASIC  # noqa: F401 (used through this module)
from bot.core.redact_dumps import DUMP_RULES
from bot.core.redact_forms import decode_base64, trie_regex
from bot.core.redact_http import HTTP_RULES
from bot.core.redact_names import NAME_VALUE_TRIGGERS, name_kind, name_words  # noqa: F401 (here and through this module)
from bot.core.redact_printed import PROSE_RULES
from bot.core.redact_tokens import (  # noqa: F401 (the rules' names, used through this module)
    ALREADY_MASKED,
    MASK_CHARS,
    NULLISH,
    REFERENCE,
    TOKEN_RULES,
    TokenRule,
    is_placeholder,
    looks_random,
    mixed,
    not_masked,
    rule,
    shannon_entropy,
)
from bot.core.redact_tools import FLAG_SPAN, TOOL_RULES, tool_flag

PLACEHOLDER = "[REDACTED:{kind}]"

# A PEM block that never shows its END line would otherwise swallow the rest of the log.
MAX_PEM_LINES = 400
# The streaming redactor holds back an unfinished line; past this size it cuts at a space, one of the last
# MAX_CUT_TRIES that does not follow a secret-looking name (else the first of them: a pathological line).
MAX_PENDING_CHARS = 256 * 1024
MAX_CUT_TRIES = 64
# A value the name/value scanner left alone is read again for names when at most this long (sub_assignments).
RESCANNED_VALUE_CHARS = 256


def placeholder(kind: str) -> str:
    return PLACEHOLDER.format(kind=kind)


# --- key: value forms --------------------------------------------------------------------


# glab variable set/update's own flags (`--masked`, `-p` is --protected, `-g GROUP`, `--scope=prod`), before or after
# the variable's name: bounded, each at most 8 times.
GLAB_FLAG = (
    r"(?:-[mpr]{1,3}|--(?:masked|protected|raw|hidden)(?:=(?:true|false))?|(?:-[gstdR]|--(?:group|scope|type|"
    r"description|repo))(?:=|\s+)(?:\"[^\"\n]{0,200}\"|'[^'\n]{0,200}'|[^\s\"'\-]\S{0,200}))\s+"
)
# base64 decoding: GNU's `-d`/`--decode`, alone or with `-i` (`-di`, `-d -i`, `--ignore-garbage`), BSD's `-D`.
BASE64_DECODE = (
    r"\bbase64\s+(?:-[A-Za-z]{1,3}\s+|--ignore-garbage\s+)?(?:-[A-Za-z]{0,3}[dD][A-Za-z]{0,3}|--decode)\b"
    r"(?:\s+-[A-Za-z]{1,3}\b|\s+--ignore-garbage\b)?"
)
BASE64_DECODE_TRIGGERS = ("base64 -d", "base64 --decode", "base64 -i", "base64 --ignore")
# zip's options start "-": one word (36 words, "zip -" and each option letter, made the pre-filter's word search
# slower on every line it passes; Info-ZIP's banner "Info-ZIP - " now runs the rule for nothing, once per archive).
ZIP_TRIGGERS = ("zip -",)

HEADER_RULES: tuple[TokenRule, ...] = (
    HTTP_RULES
    + (
        rule(
            "aws-secret-key",
            r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]?\s*[\"']?([0-9A-Za-z/+]{40})(?![0-9A-Za-z/+])",
            ("secret",),
            group=1,
        ),
        # curl -u user:password, wget --user=...: the part after the colon (curl -u :token has no user).
        rule(
            "password",
            r"(?:^|\s)(?:-u|--user)(?:=|\s+)[\"']?(?!\[REDACTED)[^\s:\"']*:([^\s\"']+)",
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
        # `mysql -uroot -pSECRET` (or -p'SECRET'): the password glued to -p, only in the MySQL clients.
        tool_flag(
            "password",
            "(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)",
            "-p",
            ("sql", "adb"),  # in mysql and mariadb; a new first letter would slow the pre-filter on every line
            needs=("mysql", "mariadb"),  # the tools' names as typed: most "sql" lines name neither
        ),
        # `sshpass -p SECRET ssh ...`: -p is the password only in sshpass.
        rule(
            "password",
            r"\bsshpass\s+(?:-\S+\s+){0,20}?-p\s*([\"']?)([^\s\"']{3,})\1",
            ("sshpass",),
            group=2,
            check=not_masked,
        ),
        # `htpasswd -b[c] FILE USER PASSWORD` / `htpasswd -nb USER PASSWORD`: the password is the last argument. Run as a
        # container's entrypoint (`docker run --entrypoint htpasswd httpd:2 -Bbn USER PASSWORD`), its arguments follow
        # the image and the run's other options (a few words, bounded).
        rule(
            "password",
            r"(?:\bhtpasswd\s+|--entrypoint(?:=|\s+)([\"']?)(?:/[\w.\-/]{0,200}/)?htpasswd\1\s+(?:\S+\s+){1,8}?)"
            r"(?:-\w{1,8}\s+)?-[A-Za-z]{0,6}b[A-Za-z]{0,6}\s+(?:-\w{1,8}\s+)?(?:\S+\s+){1,2}([\"']?)([^\s\"']{3,})\2"
            r"(?=\s*(?:$|[>|;&]))",
            ("htpasswd",),
            group=3,
            check=not_masked,
        ),
        # PowerShell: `ConvertTo-SecureString "SECRET" -AsPlainText -Force`, or the string piped in (`"SECRET" |
        # ConvertTo-SecureString -AsPlainText`: its -String takes the pipeline's input).
        rule(
            "password",
            r"(?i)\bConvertTo-SecureString\s+(?:-String\s+)?([\"'])([^\"'\n]{3,})\1",
            ("securestring",),
            group=2,
            check=not_masked,
        ),
        rule(
            "password",
            # the string is the pipeline's first element (a line's start, after `=`, `(` or a prompt), not a
            # command's argument (`Get-Content "file.txt" | ConvertTo-SecureString` reads an encrypted file)
            r"(?i)(?:^|[=(]|>)\s*([\"'])([^\"'\n]{3,})\1\s*\|\s*ConvertTo-SecureString\b(?=[^|;\n]{0,200}-AsPlainText)",
            ("securestring",),
            group=2,
            check=not_masked,
        ),
        # `nuget push x.nupkg -k KEY`: -k is the API key only in NuGet's push.
        tool_flag(
            "api-key",
            r"nuget(?:\.exe)?\s+push",
            r"-k\s+",
            ("nuget push", "nuget.exe push"),
            min_len=8,
            flags=re.IGNORECASE,
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
            needs_lower=("value",),  # but a line holding a secret's name seldom holds it
        ),
        # `docker login -u x -p secret`: a short flag that is a password only in a login command.
        rule(
            "password",
            r"(?i)\blogin\b[^\n]{0,400}?\s(?:-p|--password)(?:=|\s+)(\"[^\"]*\"|'[^']*'|[^\s\"']+)",
            ("login",),
            group=1,
            check=lambda v: not_masked(v.strip("\"'")),  # GitLab's own `-p "$CI_REGISTRY_PASSWORD"` is a reference
        ),
        # A .netrc entry: `machine host login user password secret` (also "default login ...").
        rule(
            "password",
            r"\b(?:machine\s+\S+|default)\s+login\s+\S+\s+password\s+(\S+)",
            ("password",),  # not "login": a commit message about a login page would run this rule for nothing
            group=1,
            check=not_masked,
        ),
        # A secret piped into a command that reads it from standard input: `echo $X | docker login --password-stdin`,
        # `printf %s X | helm registry login ...`, `gh auth login --with-token <<< X`.
        rule(
            "password",
            r"\b(?:echo|printf)\s+(?:-[neE]+\s+)?(?:([\"'])%s(?:\\n)?\1\s+|%s\s+)?([\"']?)([^\s\"'|;&]+)\2\s*\|[^|]{0,400}?"
            r"(?:--password-stdin|--with-token|--token-stdin)\b",
            ("password-stdin", "with-token", "token-stdin"),
            group=3,
            check=not_masked,
        ),
        rule(
            "password",
            r"(?:--password-stdin|--with-token|--token-stdin)\b[^<|]*<<<\s*([\"']?)([^\s\"']+)\1",
            ("password-stdin", "with-token", "token-stdin"),
            group=2,
            check=not_masked,
        ),
        # `npm config set //registry.npmjs.org/:_authToken X`, `yarn config set npmAuthToken X`, `git config --global
        # github.token X`, `doppler configure set token X`, `pulumi config set --secret dbPassword X`: a secret-looking setting given its value after a space; npm's
        # `--` before the name, yarn's `npmRegistries["//host"].npmAuthToken` (quotes inside the name).
        rule(
            "token",
            r"\bconfig(?:ure)?\s+(?:set\s+)?(?:--(?:global|local|system|user|project|secret)?\s+)*[\"']?"
            r"([^\s\"'=\[\-](?:[^\s\"'=\[]|\[\"[^\"\s\]]{0,200}\"\])*)[\"']?[ \t]+[\"']?([^\s\"']{8,})",
            ("config set", "config --global", "config --local", "config --system", "configure set"),
            group=2,
            check=not_masked,
            named=1,
        ),
        # `aws configure set aws_secret_access_key X` (also `aws_session_token`, and a profile's `profile.p.aws_...`):
        # whatever its shape, the same kind as the AWS secret key rule's, which may run first.
        rule(
            "aws-secret-key",
            r"\bconfigure\s+set\s+(?:\S+\.)?(?:aws_secret_access_key|aws_session_token)\s+([\"']?)([^\s\"']{8,})\1",
            ("configure set",),
            group=2,
            check=not_masked,
        ),
        # `poetry config pypi-token.<repo> X`, `poetry config http-basic.<repo> user X`.
        rule("token", r"\bpypi-token\.\S+\s+[\"']?([^\s\"']+)", ("pypi-token.",), group=1, check=not_masked),
        rule("password", r"\bhttp-basic\.\S+\s+\S+\s+[\"']?([^\s\"']+)", ("http-basic.",), group=1, check=not_masked),
        # curl --oauth2-bearer TOKEN; `vault login TOKEN` (a token given as the argument, not -method=...).
        rule("token", r"--oauth2-bearer(?:=|\s+)[\"']?([^\s\"']+)", ("oauth2-bearer",), group=1, check=not_masked),
        rule(
            "token",
            r"\bvault\s+login\s+(?:-\S+\s+)*([^\s\-=][^\s=]{7,})(?=\s|$)",
            ("vault login",),
            group=1,
            check=not_masked,
        ),
        # Client flags that take a password or token only in one tool: `redis-cli -a X`, `mongo(sh) -p X`,
        # `lftp -u user,X`, SonarQube's `-Dsonar.login=X`, Codecov's uploader `-t X`.
        tool_flag("password", "redis-cli", r"-a\s+", ("redis-cli",)),
        tool_flag(
            "password",
            "mongo(?:sh|dump|restore|import|export)?",
            r"-p\s+",
            ("mongo ", "mongosh", "mongodump", "mongorestore", "mongoimport", "mongoexport"),
            no_dash=True,
        ),
        rule(
            "password", r"\blftp\b" + FLAG_SPAN + r"\s-u\s+[^\s,]+,([^\s\"']{3,})", ("lftp",), group=1, check=not_masked
        ),
        rule(
            "token",
            r"-Dsonar\.(?:login|token|password)=([\"']?)([^\s\"']{3,})\1",
            ("-dsonar.",),
            group=2,
            check=not_masked,
        ),
        tool_flag("token", "codecov", r"-t\s+", ("codecov",), min_len=8, no_dash=True),
        # More tools whose own flag takes a password: SQL Server's `sqlcmd -P X`, `zip`/`unzip -P X`, OpenSSL's
        # `-passin`/`-passout`/`-pass pass:X`, skopeo's/podman's/buildah's `--creds user:X` (`--src-creds`, `--dest-creds`).
        tool_flag("password", "sqlcmd", r"-P\s*", ("sqlcmd",), needs=("sqlcmd",)),
        # zip's and unzip's short options combine, the one taking a value last (`zip -rP X`, `unzip -oP X`); `-p` in
        # lower case is another option (unzip's pipe). Looked for where options follow the command (`zip -r...`), or
        # the archive's name (`out.zip -rP X`): "zip -" then an option character, not Info-ZIP's banner "Info-ZIP - ".
        tool_flag("password", r"(?<![.\w\-])(?:un)?zip", r"-[A-Za-z0-9]{0,8}P\s+", ZIP_TRIGGERS),
        rule("password", r"-pass(?:in|out)?\s+([\"']?)pass:([^\s\"']{3,})\1", ("pass:",), group=2, check=not_masked),
        rule(
            "password",
            r"--(?:dest-|src-)?creds(?:=|\s+)([\"']?)[^\s:\"']{1,256}:([^\s\"']{3,})\1",
            ("creds",),
            group=2,
            check=not_masked,
        ),
        # Setting a CI secret from the command line: `gh secret set NAME --body X`, GitLab's `glab variable set NAME X`
        # (its value only when NAME looks secret: `glab variable set REGION eu-west-1` is not).
        rule(
            "secret",
            r"\bgh\s+secret\s+set\s+\S+\s+(?:[^|;&]{0,400}?\s)?(?:-b|--body)(?:=|\s+)([\"']?)([^\s\"']{3,})\1",
            ("secret set",),
            group=2,
            check=not_masked,
        ),
        rule(
            "secret",
            rf"\bglab\s+variable\s+(?:set|update)\s+(?:{GLAB_FLAG}){{0,8}}(\w[\w.\-]*)\s+(?:{GLAB_FLAG}){{0,8}}"
            r"(?:-v(?:=|\s+)?|--value(?:=|\s+))?([\"']?)([^\s\"'\-][^\s\"']{2,})\2",
            ("variable set", "variable update"),
            group=3,
            check=not_masked,
            named=1,
        ),
        # requests' basic auth in a traceback's source line: `auth=('user', 'password')`, or its classes' (requests'
        # `HTTPBasicAuth('user', 'password')`, `HTTPDigestAuth`, `HTTPProxyAuth`; httpx's and aiohttp's `BasicAuth`,
        # httpx's `DigestAuth`): the user, then the password, each a literal, perhaps named.
        rule(
            "password",
            # the user a literal or an expression (`os.environ["CI_USER"]`, `user`), the password a literal
            r"\b(?:HTTP(?:Basic|Digest|Proxy)|Basic|Digest)Auth\(\s*(?:\w{1,16}\s*=\s*)?(?:([\"'])[^\"'\n]{0,256}\1|[^,()\n]{1,200})\s*,\s*"
            r"(?:\w{1,16}\s*=\s*)?([\"'])([^\"'\n]{3,})\2\s*[,)]",
            ("basicauth(", "digestauth(", "proxyauth("),
            group=3,
            check=not_masked,
        ),
        rule(
            "password",
            r"\bauth\s*=\s*\(\s*([\"'])[^\"'\n]*\1\s*,\s*([\"'])([^\"'\n]{3,})\2\s*\)",
            ("auth=(", "auth = ("),
            group=3,
            check=not_masked,
        ),
        # A base64 blob decoded in a pipe (`echo X | base64 -d > key.p12`) or from a here-string (`base64 -d <<< X`): a
        # secret variable set -x printed. Late: when the blob decodes to a token the base64 rules know, theirs is the kind
        # to tell.
        rule(
            "secret",
            r"\b(?:echo\s+(?:-[neE]{1,3}\s+)?|printf\s+(?:([\"'])%s\1\s+|%s\s+))([\"']?)([A-Za-z0-9+/]{16,}={0,2})\2\s*\|\s*"
            + BASE64_DECODE,
            BASE64_DECODE_TRIGGERS,
            group=3,
            check=not_masked,
            late=True,
        ),
        rule(
            "secret",
            BASE64_DECODE + r"\s*<<<\s*([\"']?)([A-Za-z0-9+/]{16,}={0,2})\1(?![A-Za-z0-9+/=])",
            BASE64_DECODE_TRIGGERS,
            group=2,
            check=not_masked,
            late=True,
        ),
        # A bearer token without its header's name (`Using Bearer eyJ...`, `-H "Bearer X"`); the same kind as the
        # Authorization rule's, which may run before or after it on a line holding both. Looked for on lines that also
        # say token or credential, or quote it (`-H "Bearer X"`): "bearer" alone would add "b" to the pre-filter's
        # letters (its own hold none of them), which every line would pay for.
        rule(
            "authorization",
            r"\b[Bb]earer\s+([A-Za-z0-9._~+/\-]{16,}=*)",
            ("token", "credential", '"bearer ', "'bearer "),
            group=1,
            check=lambda v: not_masked(v) and looks_random(v),
        ),
        # Terraform's credentials variables, TF_TOKEN_<host with underscores>: the name ends in the host, not "token".
        rule("token", r"\bTF_TOKEN_\w+[\"']?\s*[:=]\s*[\"']?([^\s\"']+)", ("tf_token_",), group=1, check=not_masked),
    )
    + TOOL_RULES
)  # after every rule above: a tool's own forms, for lines no rule above has redacted
HEADER_RULES += (
    COMMAND_RULES + CLIENT_RULES + DOCUMENTED_RULES + DUMP_RULES + PROSE_RULES
)  # last: a value dumped, a secret stated in words, where no rule above hid it

URL_CREDENTIALS = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@\"'<>]*):([^/\s@\"'<>]+)@")

PEM_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
PEM_END = re.compile(r"-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
# A log line's prefix: docker compose's service (`svc-1  | `), then a time, bracketed or not, with its date (ISO,
# `2024/05/01`) or without (Jenkins' `10:22:13 `), its fraction and its zone (`Z`, `+00:00`), then GitLab's `00O `.
LOG_PREFIX = (
    r"(?:[\w.\-]{1,64}[ \t]+\|[ \t]+)?"
    r"(?:\[?(?:\d{4}[-/]\d\d[-/]\d\d[T ])?\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?\]?[ \t]++"
    r"(?:\d\d[OE]\+?[ \t]++)?)?"
)
# What may stand on a line inside a PEM block: base64, the legacy headers, quotes and escapes.
PEM_BODY = re.compile(  # behind a log's prefix too (`2024-05-01T10:22:13.123Z `, GitLab's `... 00O `, `svc-1  | `)
    # Possessive (`*+`): a line of white space inside a block was read in quadratic time, split between the stars.
    r"^" + LOG_PREFIX + r"[\s\"'\\n,]*+"
    r"(?:[0-9A-Za-z+/=]{1,128}|(?:Proc-Type|DEK-Info|Comment|Version):[^\n]*)?[\s\"'\\n,]*+$"
)
PEM_ONE_LINE = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)"
)

# Name fragments that make an assignment worth a look; the name is then checked word by word.
SECRET_NAME_FRAGMENTS = (
    "pass",
    "pwd",
    "_pw",
    "passphrase",
    "secret",
    "token",
    "auth",
    "key",
    "credential",
    "sig",
    "salt",
)
SECRET_NAME_FRAGMENTS += ("cookie", "session", "dsn")
SECRET_NAME_FRAGMENT = "(?:" + "|".join(SECRET_NAME_FRAGMENTS) + ")"
ASSIGNMENT = re.compile(
    r"(?<![\w.\-])(?P<flag>--?)?(?P<name>[A-Za-z0-9_.\-]*" + SECRET_NAME_FRAGMENT + r"[A-Za-z0-9_.\-]*)"
    # Bash's array item (`password[0]=X`); Make's `::=`, `?=` and `+=` (an upper-case name's only) assign too.
    r"(?:\[\d{1,3}\](?=\s*=))?(?P<nq>[\"']?)(?:\s*(?P<op>::?=|\?=|\+=|=>|[:=])(?![=:/])\s*|(?P<sp>[ \t]+))"
    # Python's triple quotes, Bash's ANSI-C `$'...'` and a JavaScript template literal (no `${}`) quote a value too.
    r"(?P<val>\"\"\"[^\"\n]*\"\"\"|'''[^'\n]*'''|\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|\$'(?:[^'\\\n]|\\.)*'|`[^`\s$]+`"
    # a command substitution echoing a literal (`echo X`, $(echo -n X), $( echo X )): that literal
    r"|`echo(?:[ \t]+-[neE]{1,3})?[ \t]+[^`\s$]+`|\$\([ \t]*echo(?:[ \t]+-[neE]{1,3})?[ \t]+[^()`\s$]+[ \t]*\)"
    r"|[^\s\"',;&<>(){}\[\]|\x00-\x1f]+)",
    re.IGNORECASE,
)
# What ASSIGNMENT's name is made of, and its fragments in a lower-cased ASCII line.
NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
NAME_FRAGMENT_LOWER = re.compile(trie_regex(SECRET_NAME_FRAGMENTS))
NAME_RUN = re.compile(r"[A-Za-z0-9_.\-]*")
# What may follow a whole name in ASSIGNMENT (an ASCII line): a quote, ":", "=", "?", "[" or white space.
AFTER_NAME = frozenset("\"':=?+[ \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")  # "?", "+": Make's `?=`, `+=`


def sub_assignments(replace: Callable[[re.Match[str]], str], line: str) -> str:
    """ASSIGNMENT.sub(replace, line), without trying the pattern at every character of an ASCII line; and a pair
    taken with a space that replace leaves as it is (`-alias upload-key -storepass X`: "upload-key" holds no secret)
    gives its value back, which may be a name itself (`-storepass`), so the scan resumes at the value.

    A match starts where a run of name characters starts (nothing of a word, "." or "-" before it) and that run
    holds a fragment: so only the start of each run holding one is tried. Other lines (rare) try the pattern at
    every character, as a few non-ASCII letters match the fragments' letters when the case is ignored."""
    if not line.isascii():
        return _sub_everywhere(replace, line)
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
        done = pos = _replaced(replace, match, line, out, done)
    if not out:
        return line
    out.append(line[done:])
    return "".join(out)


def _sub_everywhere(replace: Callable[[re.Match[str]], str], line: str) -> str:
    out: list[str] = []
    done = 0
    while (match := ASSIGNMENT.search(line, done)) is not None:
        done = _replaced(replace, match, line, out, done)
    out.append(line[done:])
    return "".join(out)


def _replaced(
    replace: Callable[[re.Match[str]], str], match: re.Match[str], line: str, out: list[str], done: int
) -> int:
    """Appends to out what line holds from done to the match's end, replaced; returns where the scan goes on: the
    match's end, or the start of its value when replace left the pair as it was and the value may hold a name: a pair
    taken with a space, or a short value (`credential.helper="!f() { echo password=X; }; f"`,
    `Credentials:gs_secret_access_key=X`). A long value is not read again: a line of `key=key=key=...` would be read
    once per pair (quadratic time)."""
    whole = match.group(0)
    new = replace(match)
    if new == whole and (match.group("sp") is not None or len(match.group("val")) <= RESCANNED_VALUE_CHARS):
        out.append(line[done : match.start("val")])
        return match.start("val")
    out.append(line[done : match.start()])
    out.append(new)
    return match.end()


DOTTED_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
PATH_VALUE = re.compile(r"^(?:~|\.{1,2})?/(?:[\w.\-]+/)*[\w.\-]*$")
PLACEHOLDER_RE = re.compile(r"\[REDACTED:([a-z0-9\-]+)\]")
SAFE_CUT_TAIL = re.compile(SECRET_NAME_FRAGMENT + r"[\w.\-]*[\"']?\s*[:=]?\s*$", re.IGNORECASE)
BASE64_RUN = re.compile(r"(?<![0-9A-Za-z+/_\-])[0-9A-Za-z+/_\-]{16,}={0,2}")
# A run starts only where it begins (the look-behind): tried at every start inside a long run with no `%XX`, each
# start would rescan to the run's end (quadratic on a long line of URL characters).
PERCENT_RUN = re.compile(
    r"(?<![0-9A-Za-z%._~+\-/:@=&?])[0-9A-Za-z%._~+\-/:@=&?]*%[0-9A-Fa-f]{2}[0-9A-Za-z%._~+\-/:@=&?]*"
)
USER_PASS = re.compile(r"^[^\s:]{1,64}:\S{3,}$")

KEYWORD_TRIGGERS = (
    "passw",
    "_pw",
    "_pass",
    "storepass",
    "keypass",
    "pass=",
    "pass\t=",
    "pass =",  # INI's `pass = X` (a space before "=": not `--pass fail`, nor "bypass" in prose)
    "pass:",
    "-pass ",  # --admin-pass X, -pass X (the name "pass" needs a "-" or "_" before it: bypass, compass)
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
# `%40` (a URL's user@host) and a secret's name before an encoded "=" (`password%3DX`, a query inside a URL): each
# such word holds a pre-filter word ("passw", "token"), so the pre-filter is unchanged.
PERCENT_TRIGGERS = ("%40",) + tuple(f"{name}%3d" for name in ("passw", "pass", "pwd", "token", "secret", "key"))
PEM_TRIGGERS = ("-----begin", "private-lines:")  # and PuTTY's .ppk body (redact_lines.PPK_PRIVATE)


# A word just before a weak name that says the key is no secret ("cache key:", "cache from key:", "sort key =").
HARMLESS_BEFORE = re.compile(
    r"\b(?:cache|sort|primary|foreign|partition|lookup|public|group)(?:[ \t]+[a-z]{1,6}){0,2}[ \t]+$", re.IGNORECASE
)
# A word of prose after a flag is no value: Docker's own "WARNING! Using --password via the CLI is insecure".
PROSE_AFTER_FLAG = frozenset({"via", "is", "was", "on", "in", "to", "for", "from", "with", "and", "or", "not", "of"})
# Dockerfile `ENV NAME value` and Windows `setx NAME value`: the forms where a space assigns.
DECLARATION = re.compile(r"(?:^|[\s:;&|])(?:ENV|setx|setenv)[ \t]+$")  # and csh's `setenv NAME value`

PASCAL_WORDS = re.compile(r"^(?:[A-Z][a-z0-9]+){3,}$")


YAML_TAG = re.compile(r"(?:!!?[\w/:.\-]*|&[\w\-]+)$")
YAML_CORE_TAGS = frozenset({"!!null", "!!str", "!!binary", "!!int", "!!float", "!!bool", "!!map", "!!seq", "!!set"})


DECIMAL = re.compile(r"^\d{1,9}\.\d{1,9}$")


def not_an_assignment(match: re.Match[str]) -> bool:
    """Shapes that put a colon after a secret word without assigning a secret."""
    if match.group("op") != ":" or match.group("nq") or match.group("val")[0] in "\"'":
        return False
    name = match.group("name")
    if match.end("op") == match.start("val"):
        # module:function, host:port; YAML and headers put a space after the colon. Windows' tools take
        # `/password:X` (a switch after a space): that is one.
        start = match.start("name")
        return not (match.string[start - 1 : start] == "/" and match.string[start - 2 : start - 1] in ("", " ", "\t"))
    if name_words(name) == ["pass"]:
        return True  # "--- PASS: TestName" in go test output
    value = match.group("val")
    if YAML_TAG.match(value) and (
        value in YAML_CORE_TAGS or match.string[match.end("val") : match.end("val") + 1] in " \t"
    ):
        return True  # `password: !!str X`, `password: &pw X`: a YAML tag or anchor, the value after it; `!!null`
    if DECIMAL.match(value):
        return True  # `tab-local pwd: 0.68 ms`: a timing after a word that ends in a secret's name
    # "AddUserAuthToken: migrating", a class name; not a generated value (YAML's `SecretAccessKey: X`, aws sts).
    return bool(PASCAL_WORDS.match(name)) and not looks_random(value)


def hides_secret(value: str) -> bool:
    """A base64 value that decodes to user:password."""
    decoded = decode_base64(value)
    return decoded is not None and bool(USER_PASS.match(decoded))
