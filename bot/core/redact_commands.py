"""Secrets in CI systems' logging commands, in database and remote-login clients' own forms, in shells' setters (pure).

Facts about documented formats; the rules run with the header rules (redact_rules.HEADER_RULES), after the tools'."""

from __future__ import annotations

from bot.core.redact_names import NAME_VALUE_TRIGGERS
from bot.core.redact_tokens import TokenRule, generated, not_masked, rule
from bot.core.redact_tools import FLAG_SPAN, tool_flag

_NAME = r"([A-Za-z_][\w.\-]{1,80})"
# A value as a shell word: quoted or not, never a reference ($X) or a mask (checked by not_masked).
_WORD = r"([\"']?)([^\s\"']{3,})"

COMMAND_RULES: tuple[TokenRule, ...] = (
    # Azure Pipelines' logging command `##vso[task.setvariable variable=X;issecret=true]VALUE`: the value is masked in
    # later lines, never on the line that sets it when `set -x` or a script's echo prints it.
    rule(
        "secret",
        r"(?i)##vso\[task\.setvariable\b[^\]\n]{0,300}?\bissecret=true\b[^\]\n]{0,200}\]\s*(\S(?:[^\n]{0,500}\S)?)",
        ("issecret=true",),
        group=1,
        check=not_masked,
    ),
    # GitHub Actions' older output command `::set-output name=NAME::VALUE` (and `::save-state`), by the output's name.
    rule(
        "secret",
        r"::(?:set-output|save-state)\s+name=" + _NAME + r"::(\S{3,4096})",
        ("::set-output", "::save-state"),
        group=2,
        check=not_masked,
        named=1,
        needs=("::set-output", "::save-state"),
        weak_needs_random=True,
    ),
    # Go's MySQL driver DSN `user:password@tcp(host:3306)/db` (also `@unix(/path)`), printed by Go services' errors.
    rule(
        "password",
        r"(?<![\w/:])[\w.\-]{1,64}:([^\s@/:\"'()]{3,256})@(?:tcp|tcp6|unix|udp)\(",
        ("@tcp", "@unix", "@udp"),
        group=1,
        check=not_masked,
        needs=("@tcp(", "@tcp6(", "@unix(", "@udp("),
    ),
    # Bundler's credentials variable `BUNDLE_<HOST, dots as __>=user:password`.
    rule(
        "password",
        r"\bBUNDLE_(?=[A-Z0-9_]{0,253}?__)[A-Z0-9_]{1,256}[\"']?\s*[=:]\s*[\"']?[^\s:\"'=]{1,64}:([^\s\"']{3,})",
        ("bundle_",),
        group=1,
        check=not_masked,
        needs=("BUNDLE_",),
    ),
    # OpenLDAP's clients take the bind password after -w (`-W` prompts, `-y` reads a file); ldappasswd's -s new one.
    tool_flag(
        "password",
        r"ldap(?:search|add|modify|delete|passwd|whoami|compare|modrdn|exop|url)",
        r"-w\s*",
        (
            "ldapsearch",
            "ldapadd",
            "ldapmodify",
            "ldapdelete",
            "ldappasswd",
            "ldapwhoami",
            "ldapcompare",
            "ldapmodrdn",
            "ldapexop",
            "ldapurl",
        ),
        no_dash=True,
        needs=("ldap",),
    ),
    tool_flag("password", "ldappasswd", r"-s\s*", ("ldappasswd",), no_dash=True),
    # Cassandra's cqlsh `-u USER -p PASSWORD`.
    tool_flag("password", "cqlsh", r"-p\s*", ("cqlsh",), no_dash=True, needs=("cqlsh",)),
    # Oracle's utilities take `user/password@connect` as sqlplus does: Data Pump, SQL*Loader, RMAN's `target`, DGMGRL.
    rule(
        "password",
        r"\b(?:expdp|impdp|sqlldr|rman\s+target|dgmgrl)(?:\s+|=)(?:userid=)?[\"']?[\w$#]{1,64}/([\"']?)([^\s\"'@/]{3,})\1@",
        ("expdp", "impdp", "sqlldr", "rman target", "dgmgrl "),
        group=2,
        check=not_masked,
        needs=("expdp", "impdp", "sqlldr", "rman", "dgmgrl"),  # the words as printed: "sql" lines run it otherwise
    ),
    # FreeRDP's `/p:PASSWORD`, rdesktop's `-p PASSWORD`.
    tool_flag("password", r"[xw]l?freerdp3?", r"/p:", ("freerdp",), needs=("freerdp",)),
    tool_flag("password", "rdesktop", r"-p\s*", ("rdesktop",), no_dash=True, needs=("rdesktop",)),
    # sudo reading the password from standard input: `sudo -S <<< X`, `echo X | sudo -S …`; chpasswd's `<<< user:X`.
    rule(
        "password",
        r"\bsudo\s+(?:--?\w+\s+){0,4}?(?:-(?=\w*S)\w+|--stdin)\b[^|;&\n<]{0,200}?<<<\s*" + _WORD + r"\1",
        ("sudo ",),
        group=2,
        check=not_masked,
        needs=("<<<",),
    ),
    rule(
        "password",
        r"\b(?:echo|printf)\s+(?:-[neE]{1,3}\s+)?"
        + _WORD
        + r"\1\s*\|\s*sudo\s+(?:--?\w+\s+){0,4}?(?:-(?=\w*S)\w+|--stdin)\b",
        ("sudo ",),
        group=2,
        check=not_masked,
        needs=("|",),
    ),
    rule(
        "password",
        r"\bchpasswd\b[^|;&\n<]{0,100}?<<<\s*([\"']?)[^\s:\"']{1,64}:([^\s\"']{3,})\1",
        ("chpasswd",),
        group=2,
        check=not_masked,
        needs=("chpasswd",),
    ),
    # fish's `set -x NAME VALUE` (-gx, -Ux, --export), PowerShell's `Set-Item -Path Env:NAME -Value X`.
    rule(
        "secret",
        r"\bset\s+(?:--?\w+\s+){0,3}?(?:-(?=[gUlux]*x)[gUlux]+|--export)\s+(?:--?\w+\s+){0,2}"
        + _NAME
        + r"\s+"
        + _WORD
        + r"\2",
        NAME_VALUE_TRIGGERS,
        group=3,
        check=not_masked,
        named=1,
        needs=("set -", "set --"),
        weak_needs_random=True,
    ),
    rule(
        "secret",
        r"(?i)\b(?:set|new)-item\s+(?:-path\s+)?[\"']?env:\\?" + _NAME + r"[\"']?\s+(?:-value\s+)?" + _WORD + r"\2",
        NAME_VALUE_TRIGGERS,
        group=3,
        check=not_masked,
        named=1,
        needs=("nv:", "NV:"),
        weak_needs_random=True,
    ),
    # CI systems' stores given the value as an argument: Buildkite's `meta-data set NAME VALUE`, `gh secret set NAME
    # -bVALUE` (the body glued to its flag), CircleCI's `context store-secret … NAME <<< VALUE`.
    rule(
        "secret",
        r"\bbuildkite-agent\s+meta-data\s+set\s+[\"']?" + _NAME + r"[\"']?\s+" + _WORD + r"\2",
        ("meta-data set",),
        needs=("meta-data",),
        group=3,
        check=not_masked,
        named=1,
        weak_needs_random=True,
    ),
    rule(
        "secret",
        r"\bgh\s+secret\s+set\b" + FLAG_SPAN + r"\s(?:-b|--body=)" + _WORD + r"\1",
        ("secret set",),
        group=2,
        check=not_masked,
        needs=("secret",),  # "secret" lines run it otherwise; the pattern is `gh secret set` as typed
    ),
    rule(
        "secret",
        r"\bcircleci\s+context\s+store-secret\b[^|;&\n<]{0,300}?<<<\s*" + _WORD + r"\1",
        ("store-secret",),
        group=2,
        check=not_masked,
        needs=("store-secret",),
    ),
    # A keyword naming a secret, then its string: Clojure's `{:api-key "X"}`, Ruby's `set :password, 'X'`.
    rule(
        "secret",
        r"(?<![\w:]):" + _NAME + r"(?:,\s*|\s+)([\"'])([^\"'\n\\]{3,256})\2",
        # the keyword's start or its end before a quote: a name-value word with any colon would run it on most lines
        (":pass", ":api", ":token", ":secret", ":auth", ":access", ":private", ":client", ":db-", ":db_", ":key")
        + tuple(f"{sep}{word}{end}" for sep in "-_" for word in ("token", "key", "password", "secret") for end in " ,"),
        group=3,
        check=not_masked,
        named=1,
        weak_needs_random=True,
    ),
    # Nomad's `acl bootstrap` / `acl token create` table: `Secret ID    = X`; Consul's `SecretID:     X`.
    rule(
        "token",
        r"^\s*(?:Secret ID\s+=|SecretID:)\s+([\w\-]{16,128})\s*$",
        ("secret id", "secretid:"),
        group=1,
        check=not_masked,
        needs=("Secret",),
    ),
    # OAuth's authorization code (RFC 6749 4.1.2): one use, minutes long, but with the client secret it buys a token.
    rule(
        "secret",
        r"[?&]code=([A-Za-z0-9._~%\-!*]{16,512})(?=[&#\s\"']|$)",
        ("?code=", "&code="),
        group=1,
        check=generated,
        needs=("code=",),
    ),
    rule(
        "secret",
        r"(?<![\w.\-])code=([A-Za-z0-9._~%\-!*]{16,512})(?=[&#\s\"']|$)",
        ("authorization_code",),
        group=1,
        check=generated,
        needs=("code=",),  # "auth" lines run it otherwise
    ),
)
