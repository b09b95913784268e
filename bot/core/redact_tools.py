"""Secrets a tool takes in its own way: a flag of its own, an argument, a setter in code or on a command line (pure).

Facts about the tools' documented flags; the rules run with the header rules (redact_rules.HEADER_RULES)."""

from __future__ import annotations

import re

from bot.core.redact_names import NAME_VALUE_TRIGGERS
from bot.core.redact_tokens import TokenRule, looks_random, mixed, not_masked, rule

# Between a tool's name and its password flag: bounded, so that a line repeating the name is not searched to its end
# from every occurrence (quadratic time on a hostile line).
FLAG_SPAN = r"[^|;&]{0,400}?"


def tool_flag(
    kind: str,
    tool: str,
    flag: str,
    triggers: tuple[str, ...],
    min_len: int = 3,
    no_dash: bool = False,
    flags: int = 0,
    needs: tuple[str, ...] = (),
) -> TokenRule:
    """A secret given to a flag that takes one only in this tool: `<tool> ... <flag>X`, quoted or not.

    `flag` holds what may follow the flag (`-p` glued, `-a\\s+`); `no_dash`: the value cannot start with "-" (the
    flag takes an optional value, and the next flag would be read as one)."""
    value = rf"[^\s\"'-][^\s\"']{{{min_len - 1},}}" if no_dash else rf"[^\s\"']{{{min_len},}}"
    pattern = rf"\b{tool}\b{FLAG_SPAN}\s{flag}([\"']?)({value})\1"
    return rule(kind, pattern, triggers, group=2, check=not_masked, flags=flags, needs=needs)


def _table_value(value: str) -> bool:
    """A value in a two-column listing that is a secret, not a status word (`required`, `unset`)."""
    return not_masked(value) and (looks_random(value) or any(c.isdigit() for c in value))


# A literal name, as code quotes it: DB_PASSWORD, db.password, api-token.
_QUOTED_NAME = r"([\"'])([A-Za-z_][\w.\-]{1,80})\1"
# A secret piped by echo/printf into a command that reads it from standard input (set -x prints the value).
_PIPED = (
    r"\b(?:echo|printf)\s+(?:-[neE]{1,3}\s+)?(?:([\"'])%s(?:\\n)?\1\s+|%s\s+)?([\"']?)([^\s\"'|;&]+)\2\s*\|[^|]{0,400}?"
)

# Commands that store or take a secret they read from standard input: `az devops login` (a PAT), `databricks
# configure --token`, `dart pub token add`, `gpg … --passphrase-fd 0`, 1Password's `op signin`, `kubeseal --raw` (it
# seals the value it reads).
_STORES = (
    r"(?:(?:\b(?:docker|podman)\s+secret\s+create|\bgcloud\s+secrets\s+(?:create|versions\s+add)|\bkubectl\s+create\s+secret|"
    r"\bwrangler\s+secret\s+put|\bvercel\s+env\s+add|\bfly(?:ctl)?\s+secrets\s+import|\bgh\s+secret\s+set|"
    r"\baz\s+devops\s+login|\bdatabricks\s+configure|\bpub\s+token\s+add|\bop\s+signin)\b|"
    r"\bkubeseal\b(?=[^|;&<\n]{0,200}?--raw\b)|\bgpg\b(?=[^|;&<\n]{0,200}?--passphrase-fd\s+0\b))"
)
_STORE_TRIGGERS = (
    "secret create",
    "gcloud secrets",
    "create secret",
    "secret put",
    "env add",
    "secrets import",
    "secret set",
    "devops login",
    "databricks configure",
    "pub token add",  # not "token add" nor "passphrase-fd": a line with "token" or "passw" would run the rule
    "phrase-fd",
    "op signin",
    "kubeseal",
)
# A secret file's name: `echo X > ~/.vault_pass`, `> ~/.pgpass`, `> credentials.tfrc.json`, `> .git-credentials`.
_SECRET_FILE = r"[\w.\-]*(?:pass|pwd|token|secret|credential|apikey|api_key|auth)[\w.\-]*"

TOOL_RULES: tuple[TokenRule, ...] = (
    # Deploy and publish tools whose short flag or positional argument takes a secret: `ssh-keygen -P OLD -N NEW`
    # (each its own rule: a line may hold both), `openssl enc -k X` (`-K X`: the key itself, in hex), `twine upload -p X`,
    # `doctl auth init -t X`, `snyk auth [--auth-type=token] X` (a UUID: prose after it has no digit), Snyk's `config
    # set api=X`; values glued to their flag as getopt allows (`-Nx`).
    tool_flag("password", "ssh-keygen", r"-P\s*", ("ssh-keygen",), no_dash=True),
    tool_flag("password", "ssh-keygen", r"-N\s*", ("ssh-keygen",), no_dash=True),
    tool_flag(
        "password",
        r"openssl\s+(?:enc|aes|des|bf|camellia|chacha)",
        r"-[kK]\s+",
        ("openssl enc", "openssl aes", "openssl des", "openssl bf", "openssl camellia", "openssl chacha"),
        no_dash=True,
    ),
    tool_flag("password", r"twine\s+upload", r"-p\s*", ("twine upload",), no_dash=True),
    tool_flag("token", "doctl", r"-t\s+", ("doctl",), min_len=8, no_dash=True),
    rule(
        "token",
        r"\bsnyk\s+auth\s+(?:--auth-type(?:=|\s+)\S+\s+)?([\"']?)([^\s\"'-][^\s\"']{7,})\1",
        ("snyk auth",),
        group=2,
        check=lambda v: not_masked(v) and any(c.isdigit() for c in v),
    ),
    rule("token", r"\bsnyk\s+config\s+set\s+api=([\"']?)([^\s\"']{8,})\1", ("snyk config",), group=2, check=not_masked),
    # MinIO's client: `mc [FLAGS] alias set [--api X] [--path X] ALIAS URL ACCESS_KEY SECRET_KEY` (`config host add`,
    # its older name), `mc admin user add ALIAS USER SECRET`; the positional arguments never start with "-".
    rule(
        "secret",
        r"\bmc\s+(?:--?[\w\-]+\s+){0,4}(?:alias\s+set|config\s+host\s+add)\s+(?:--(?:api|path)(?:=|\s+)\S+\s+){0,2}"
        r"[^\s\-]\S*\s+[^\s\-]\S*\s+[^\s\-]\S*\s+([\"']?)([^\s\"'-][^\s\"']{2,})\1",
        ("alias set", "host add"),
        group=2,
        check=not_masked,
    ),
    rule(
        "secret",
        r"\bmc\s+(?:--?[\w\-]+\s+){0,4}admin\s+user\s+add\s+[^\s\-]\S*\s+[^\s\-]\S*\s+([\"']?)([^\s\"'-][^\s\"']{2,})\1",
        ("admin user add",),
        group=2,
        check=not_masked,
    ),
    # rclone's `config create|update|password NAME [TYPE] key value ...` pairs.
    rule(
        "secret",
        r"\brclone\s+config\s+(?:create|update|password)\b"
        + FLAG_SPAN
        + r"\s(?:secret_access_key|secret_key|pass|password|client_secret|token|bearer_token|key|key_file_pass|"
        r"account_key|sas_url|service_account_credentials)\s+([\"']?)([^\s\"'=-][^\s\"']{2,})\1",
        ("rclone config",),
        group=2,
        check=not_masked,
    ),
    # A builder's or setter's method named for a secret, given a literal: `.password("X")`, `.setApiKey("X")`; not
    # one that looks a name up (`.ContainsKey('x')`, `.getPassword("default")`): the name must end in a strong word.
    rule(
        "secret",
        r"\.((?!(?:get|has|contains|remove|delete|is|check|verify|validate|reset|clear|read|load|find)[A-Z_])[A-Za-z_]\w{0,40}"
        r"(?:[Pp]assword|PASSWORD|[Pp]asswd|[Tt]oken|TOKEN|[Ss]ecret|SECRET|[Aa]pi_?[Kk]ey|API_KEY|[Cc]redentials?))"
        r"\(\s*([\"'])([^\"'\n]{3,256})\2\s*\)",
        NAME_VALUE_TRIGGERS,
        group=3,
        check=not_masked,
        named=1,
        needs=('("', "('", "( "),
    ),
    # A .netrc entry written over several lines: `password X` alone on its line.
    rule(
        "password",
        r"^\s*password\s+([^\s\"']{3,})\s*$",
        ("password",),
        group=1,
        check=_table_value,
    ),
    # Databases' and services' own ways to set a password: SQL's `IDENTIFIED BY 'X'` and `PASSWORD('X')`, Redis'
    # `requirepass X` / `masterauth X` and `AUTH [user] X`, `rabbitmqctl add_user|change_password USER X`.
    rule(
        "password",
        r"(?i)\bidentified\s+(?:with\s+\S+\s+)?by\s+(?:password\s+)?([\"'])([^\"'\n]{3,256})\1",
        ("dentified",),  # "identified" would add "i" to the first letters the pre-filter's word search tries
        group=2,
        check=not_masked,
    ),
    rule(
        "password",
        r"(?i)\bpassword\s*\(\s*([\"'])([^\"'\n]{3,256})\1\s*\)",
        ("password",),
        group=2,
        check=not_masked,
        needs=("(",),
    ),
    rule(
        "password",
        r"(?i)\b(?:requirepass|masterauth)\s+([\"']?)([^\s\"']{3,})\1",
        ("requirepass", "masterauth"),
        group=2,
        check=not_masked,
    ),
    rule(
        "password",
        r"(?:^|\bredis-cli\b[^|;&\n]{0,200}?\s)AUTH\s+(?:[^\s\"']{1,64}\s+)?([\"']?)([^\s\"']{6,})\1\s*$",
        ("auth",),
        group=2,
        check=_table_value,
        needs=("AUTH",),
    ),
    rule(
        "password",
        r"\brabbitmqctl\s+(?:-\S+\s+){0,4}(?:add_user|change_password)\s+\S+\s+([\"']?)([^\s\"'-][^\s\"']{2,})\1",
        ("add_user", "change_password"),
        group=2,
        check=_table_value,
    ),
    # System accounts: `echo 'user:X' | chpasswd`, `echo -e 'X\nX' | passwd`, `openssl passwd -6 X`. Not Windows'
    # `net user NAME X /add`: every word of it that the pre-filter could look for is common or starts with "/", which
    # would slow its word search on every line it passes.
    rule(
        "password",
        r"\b(?:echo|printf)\s+(?:-[neE]{1,3}\s+)?([\"']?)[^\s:\"']{1,64}:([^\s\"']{3,})\1\s*\|\s*(?:sudo\s+)?chpasswd\b",
        ("chpasswd",),
        group=2,
        check=not_masked,
    ),
    rule(
        "password",
        r"\b(?:echo|printf)\s+(?:-[neE]{1,3}\s+)?([\"'])([^\"'\n\\]{3,256})\\n\2(?:\\n)?\1\s*\|\s*(?:sudo\s+)?passwd\b",
        ("passwd",),
        group=2,
        check=not_masked,
    ),
    rule(
        "password",
        r"\bopenssl\s+passwd\s+(?:-salt\s+\S+\s+|-\w+\s+){0,4}([\"']?)([^\s\"'()$-][^\s\"')]{2,})\1",
        ("openssl passwd",),
        group=2,
        check=not_masked,
    ),
    # `SSHPASS=X sshpass -e …`, `export SSHPASS=X`: sshpass -e reads the password from this variable (its own
    # messages, `sshpass: Failed to run command`, are not one).
    rule("password", r"\bSSHPASS\s*=\s*([\"']?)([^\s\"']{3,})\1", ("sshpass=", "sshpass ="), group=2, check=not_masked),
    # An environment listed in two columns, name then value (PowerShell's `Get-ChildItem env:`, `dir env:`).
    rule(
        "secret",
        r"^\s*([A-Za-z_][A-Za-z0-9_]{2,80})[ \t]{2,}([^\s\"']{6,})\s*$",
        NAME_VALUE_TRIGGERS,
        group=2,
        check=_table_value,
        named=1,
        needs=("  ", "\t"),
        weak_needs_random=True,
    ),
    # A setter in code, in a traceback's or a script's source line: `os.environ["API_TOKEN"] = "X"`, `ENV['X'] = 'X'`,
    # `setenv("API_TOKEN", "X")`, `System.setProperty("db.password", "X")`, `[Environment]::SetEnvironmentVariable(…)`.
    rule(
        "secret",
        r"\[\s*" + _QUOTED_NAME + r"\s*\]\s*=\s*([\"'])([^\"'\n]{3,256})\3",
        NAME_VALUE_TRIGGERS,
        group=4,
        check=not_masked,
        named=2,
        needs=("]=", "] ="),
        weak_needs_random=True,
    ),
    rule(
        "secret",
        r"\(\s*" + _QUOTED_NAME + r"\s*,\s*([\"'])([^\"'\n]{3,256})\3\s*[,)]",
        NAME_VALUE_TRIGGERS,
        group=4,
        check=not_masked,
        named=2,
        needs=('",', "',", '" ,', "' ,"),
        weak_needs_random=True,
    ),
    # Secret stores set from the command line: Azure Key Vault (`az keyvault secret set … --value X`), AWS SSM
    # (`aws ssm put-parameter … --value X` for a SecureString or a name saying password/secret/token), Consul's and
    # etcd's key-value stores under a secret-looking key (`consul kv put app/db/password X`; `@file` reads a file).
    rule(
        "secret",
        r"\bkeyvault\s+secret\s+set\b" + FLAG_SPAN + r"\s--value(?:=|\s+)([\"']?)([^\s\"']{3,})\1",
        ("keyvault secret set",),
        group=2,
        check=not_masked,
    ),
    rule(
        "secret",
        r"\bput-parameter\b(?=[^\n]{0,800}(?:SecureString|--name[= ]\S*(?i:password|secret|token)))"
        + FLAG_SPAN
        + r"\s--value(?:=|\s+)([\"']?)([^\s\"']{3,})\1",
        ("put-parameter",),
        group=2,
        check=not_masked,
    ),
    rule(
        "secret",
        r"(?i)\b(?:consul\s+kv\s+put|etcdctl\s+put)\s+(?:-\S+\s+){0,6}\S{0,200}?(?:password|passwd|secret|token|"
        r"credential|api[_-]?key|private[_-]?key)\S{0,200}?\s+([\"']?)([^\s\"'@-][^\s\"']{2,})\1",
        ("kv put", "etcdctl put"),
        group=2,
        check=not_masked,
    ),
    # A secret piped into a command that stores it: `printf %s X | docker secret create NAME -`, `echo -n X | gcloud
    # secrets versions add NAME --data-file=-`, `… | kubectl create secret generic NAME --from-file=x=/dev/stdin`,
    # the hosting CLIs that read a secret's value from standard input (`wrangler secret put NAME`, `vercel env add
    # NAME ENV`, `fly secrets import`, `gh secret set NAME`), or from a here-string (`… <<< X`).
    rule("secret", _PIPED + _STORES, _STORE_TRIGGERS, group=3, check=not_masked),
    rule(
        "secret",
        _STORES + r"[^<|;&\n]{0,400}?<<<\s*([\"']?)([^\s\"']{3,})\1",
        _STORE_TRIGGERS,
        group=2,
        check=not_masked,
    ),
    # A secret written to a secret's file (`echo X > ~/.vault_pass`, `printf %s X > .pgpass`): the file's name says
    # what it holds; the value must look generated or mix digits and both cases (`echo build-42 > build_token.txt`
    # is not one).
    rule(
        "secret",
        r"\b(?:echo|printf)\s+(?:-[neE]{1,3}\s+)?(?:([\"'])%s(?:\\n)?\1\s+|%s\s+)?([\"']?)([^\s\"'|;&<>]{6,})\2\s*>>?\s*"
        r"[\"']?(?:[^\s\"'|;&<>]{0,200}/)?" + _SECRET_FILE + r"[\"']?\s*(?:$|[;&|)])",
        NAME_VALUE_TRIGGERS + ("gpass",),  # .pgpass ("pgpass" would be the only pre-filter word with "pg")
        group=3,
        check=lambda v: not_masked(v) and (looks_random(v) or mixed(v)),
        pieces=lambda v: [v, v.rsplit(":", 1)[-1]],  # a .pgpass line's password is its last field
        needs=(">",),
    ),
    # A password file given as a process substitution: `--vault-password-file <(echo X)`, `gpg --passphrase-file
    # <(echo X)`.
    rule(
        "password",
        r"-(?:pass|password|passphrase|secret|token)-file(?:=|\s+)<\(\s*(?:echo|printf)\s+(?:-[neE]{1,3}\s+)?"
        r"(?:([\"'])%s(?:\\n)?\1\s+|%s\s+)?([\"']?)([^\s\"')]{3,})\2\s*\)",
        ("pass-file", "password-file", "passphrase-file", "secret-file", "token-file"),
        needs=("<(",),  # the words are inside common ones ("passw", "token"): most lines holding them hold no "<("
        group=3,
        check=not_masked,
    ),
    # `netlify env:set NAME X` under a secret-looking NAME; `drone secret add|update … --data X` (`@file` reads a file).
    rule(
        "secret",
        r"\bnetlify\s+env:set\s+(\w[\w.\-]*)\s+([\"']?)([^\s\"'-][^\s\"']{2,})\2",
        ("netlify",),
        group=3,
        check=not_masked,
        named=1,
    ),
    rule(
        "secret",
        r"\bdrone\s+(?:org)?secret\s+(?:add|update)\b"
        + FLAG_SPAN
        + r"\s--data(?:=|\s+)([\"']?)([^\s\"'@][^\s\"']{2,})\1",
        ("drone secret", "drone orgsecret"),
        group=2,
        check=not_masked,
    ),
    # Oracle's `sqlplus [-s] user/password@connect`, Samba's `smbclient … -U user%password`.
    rule(
        "password",
        r"\bsqlplus\s+(?:-\w+\s+){0,3}[\"']?[\w$#]{1,64}/([\"']?)([^\s\"'@/]{3,})\1@",
        ("sqlplus",),
        group=2,
        check=not_masked,
        needs=("sqlplus",),
    ),
    rule(
        "password",
        r"\bsmbclient\b" + FLAG_SPAN + r"\s(?:-U|--user)(?:=|\s+)[\"']?[^\s%\"']{1,64}%([^\s\"']{3,})",
        ("smbclient",),
        group=1,
        check=not_masked,
    ),
    # Apple's tools: the keychain's password (`security unlock-keychain -p X`, `create-keychain`,
    # `set-keychain-password`), a .p12's (`security import … -P X`), an app-specific password (`xcrun altool … -p X`;
    # `@keychain:NAME` and `@env:NAME` are references, see redact_tokens.REFERENCE).
    tool_flag(
        "password",
        r"security\s+(?:unlock-keychain|create-keychain|set-keychain-password)",
        r"-p\s+",
        ("security unlock-keychain", "security create-keychain", "security set-keychain-password"),
        no_dash=True,
    ),
    tool_flag("password", r"security\s+import", r"-P\s+", ("security import",), no_dash=True),
    tool_flag("password", "altool", r"-p\s+", ("altool",), no_dash=True),
    # Package registries' credentials set from the command line: `dotnet nuget add source … -p X`, Composer's `config
    # github-oauth.github.com X` (`gitlab-oauth.`, `gitlab-token.`), Bundler's `config [set] HOST user:X` (HOST perhaps a URL), `cargo login X`.
    tool_flag(
        "password",
        r"nuget\s+(?:add|update)\s+source",
        r"-p\s+",
        ("nuget add source", "nuget update source"),
        no_dash=True,
    ),
    rule(
        "token",
        r"\b(?:github-oauth|gitlab-oauth|gitlab-token)\.\S+\s+([\"']?)([^\s\"'-][^\s\"']{7,})\1",
        ("github-oauth.", "gitlab-oauth.", "gitlab-token."),
        group=2,
        check=not_masked,
    ),
    rule(
        "password",
        r"\bbundle\s+config\s+(?:set\s+)?(?:--(?:global|local)\s+)?(?:https?://)?[\w\-]+(?:\.[\w\-]+)+/?\s+([\"']?)"
        r"[^\s:\"']{1,128}:([^\s\"']{3,})\1",
        ("bundle config",),
        group=2,
        check=not_masked,
    ),
    rule(
        "token",
        r"\bcargo\s+login\s+(?:--registry(?:=|\s+)\S+\s+)?([\"']?)([^\s\"'-][^\s\"']{7,})\1",
        ("cargo login",),
        group=2,
        check=not_masked,
    ),
    # Publishing tools' short flags: `poetry publish -p X` (-u/-p), `hatch publish -a X` (--auth), `vsce|ovsx publish
    # -p X` / `--pat X` (a marketplace PAT), NuGet's `setapikey X`.
    tool_flag("password", r"poetry\s+publish", r"-p\s*", ("poetry publish",), no_dash=True),
    tool_flag("password", r"hatch\s+publish", r"-a\s*", ("hatch publish",), no_dash=True),
    # ("vsce publish": "vsce" alone would be the only pre-filter word with "ce" after its anchor letter "c")
    tool_flag("token", r"(?:vsce|ovsx)", r"(?:-p|--pat)(?:=|\s+)", ("vsce publish", "ovsx"), min_len=8, no_dash=True),
    rule("api-key", r"(?i)\bsetapikey\s+([\"']?)([^\s\"'-][^\s\"']{7,})\1", ("setapikey",), group=2, check=not_masked),
    # `docker login -pX` / `cf login … -pX` (a short flag's value glued to it, as getopt and pflag allow); not a word
    # after it (`-prod`), nor an option of its own (`-profile=x`).
    rule(
        "password",
        r"\blogin\b[^\n]{0,400}?\s-p([\"']?)([^\s\"'=-][^\s\"'=]{5,})\1(?=\s|$)",
        ("login",),
        group=2,
        check=lambda v: not_masked(v) and not v.islower(),
    ),
    # Windows: Sysinternals' `psexec \\host -u USER -p X`, `signtool sign /f cert.pfx /p X`, `cmdkey /add:H /user:U
    # /pass:X`.
    tool_flag("password", r"psexec(?:64)?(?:\.exe)?", r"-p\s+", ("psexec",), no_dash=True),
    tool_flag(
        "password",
        r"signtool(?:\.exe)?\s+sign",
        r"/p\s+",
        ("signtool",),
        needs=("signtool", "SignTool"),  # "signtool" is inside "sig": most lines saying "sig" hold neither
        no_dash=True,
        flags=re.IGNORECASE,
    ),
    tool_flag("password", r"cmdkey(?:\.exe)?", r"/pass:", ("cmdkey",), flags=re.IGNORECASE),
    # Oracle's JDBC thin URL, user/password@host.
    rule(
        "password",
        r"\bjdbc:oracle:thin:[\w$#]{1,64}/([\"']?)([^\s@/\"']{3,})\1@",
        ("dbc:oracle",),  # not "jdbc": no other word starts with "j", which the word search would then try
        group=2,
        check=not_masked,
    ),
    # Setting a CI or platform variable under a secret-looking name: Azure Pipelines' `az pipelines variable create
    # --name N … --value X` (also `variable-group variable`), Cloud Foundry's `cf set-env APP NAME X`, DVC's `dvc
    # remote modify [--local] REMOTE OPTION X`.
    rule(
        "secret",
        # (the name in a look-ahead: tried once, not again at each later "--name" of a line repeating it)
        r"\bvariable\s+(?:create|update)\b(?=[^|;&\n]{0,400}?--name(?:=|\s+)[\"']?([\w.\-]+))"
        + FLAG_SPAN
        + r"\s--value(?:=|\s+)([\"']?)([^\s\"']{3,})\2",
        ("variable create", "variable update"),
        group=3,
        check=not_masked,
        named=1,
    ),
    rule(
        "secret",
        r"\bcf\s+set-env\s+\S+\s+(\w[\w.\-]*)\s+([\"']?)([^\s\"'-][^\s\"']{2,})\2",
        ("set-env",),
        group=3,
        check=not_masked,
        named=1,
    ),
    rule(
        "secret",
        r"\bdvc\s+remote\s+modify\s+(?:-\S+\s+){0,4}\S+\s+(\w[\w.\-]*)\s+([\"']?)([^\s\"'-][^\s\"']{2,})\2",
        ("remote modify",),
        group=3,
        check=not_masked,
        named=1,
    ),
    # A secret as a command's argument: `cf auth USER X`, `bw unlock X`, `wandb login X`, `replicate auth login X`, `ngrok [config add-]authtoken
    # X`, `grafana-cli admin reset-admin-password X`.
    rule(
        "password",
        r"\bcf\s+auth\s+(?:--\S+\s+)*[^\s\-]\S*\s+([\"']?)([^\s\"'-][^\s\"']{2,})\1",
        ("cf auth",),
        group=2,
        check=not_masked,
    ),
    rule(
        "password",
        r"\bbw\s+unlock\s+(?:--(?:raw|nointeraction)\s+)*([\"']?)([^\s\"'-][^\s\"']{2,})\1",
        ("bw unlock",),
        group=2,
        check=not_masked,
    ),
    rule(
        "token",
        r"\b(?:wandb\s+login|replicate\s+auth\s+login|(?:add-)?authtoken)\s+(?:--(?:relogin|verify|cloud)\s+|--(?:host|config|log)(?:=|\s+)\S+\s+)*"
        r"([\"']?)([^\s\"'-][^\s\"']{7,})\1",
        ("wandb login", "replicate auth", "authtoken"),
        needs=("wandb", "replicate", "authtoken"),  # "authtoken" is inside "auth": most lines saying "auth" hold none
        group=2,
        check=not_masked,
    ),
    rule(
        "password",
        r"\breset-admin-password\s+(?:--\S+\s+)*([\"']?)([^\s\"'-][^\s\"']{2,})\1",
        ("reset-admin-password",),
        group=2,
        check=not_masked,
    ),
    # A personal access token by its name: `export GITHUB_PAT=X`, `AZURE_DEVOPS_EXT_PAT: X`, `"GH_PAT": "X"` (a rule of
    # its own, not a name fragment of the name/value scanner, which would then stop at every "_path" of a line).
    rule(
        "token",
        r"\b([A-Za-z][A-Za-z0-9_]{0,80}_(?:PAT|pat))[\"']?[ \t]*[:=][ \t]*([\"']?)([^\s\"',;]{16,})\2",
        ("_pat=", "_pat:", '_pat"', "_pat'"),  # not "_pat ": test names (file_pat_to_reg_pat returns ...)
        group=3,
        check=not_masked,
        named=1,
        weak_needs_random=True,
    ),
    # A key/value XML entry: Java's properties XML `<entry key="api.token">X</entry>`, Android's `<string
    # name="api_key">X</string>`.
    rule(
        "secret",
        r"<(\w+)\s+(?:key|name)=([\"'])([\w.\-]{1,80})\2[^<>]{0,200}>([^<\s][^<\n]{2,})</\1>",
        NAME_VALUE_TRIGGERS,
        group=4,
        check=not_masked,
        named=3,
        needs=("</",),
        weak_needs_random=True,
    ),
    # SQL Server setup's `/SAPWD:X` or `/SAPWD="X"` (the sa account's password; the word holds "pwd").
    rule("password", r"(?i)(?:^|\s)/SAPWD[:=]([\"']?)([^\s\"']{3,})\1", ("sapwd",), group=2, check=not_masked),
    # sops: `--set '["db"]["password"] "X"'`, and sops 3.9's `set FILE '["password"]' '"X"'`: the last key names it.
    rule(
        "secret",
        r"\bsops(?=\s)[^|;&\n]{0,400}?(?:--set\s+'|\sset\s+\S{1,400}\s+')(?:\[[^\]\n]{1,80}\]){0,8}?\[\"([\w.\-]{1,80})\"\]'?"
        r"\s+'?\"([^\"\n]{3,})\"",
        NAME_VALUE_TRIGGERS,
        group=2,
        check=not_masked,
        named=1,
        needs=("sops",),
    ),
    # NuGet's push takes the API key as its second positional argument: `nuget push PKG.nupkg KEY -Source URL`.
    rule(
        "api-key",
        r"(?i)\bnuget(?:\.exe)?\s+push\s+(?:-\S+\s+){0,6}?[\"']?[^\s\"']+\.s?nupkg[\"']?\s+([\"']?)([^\s\"'-][^\s\"']{15,})\1",
        ("nuget push", "nuget.exe push"),
        group=2,
        check=lambda v: not_masked(v) and (looks_random(v) or mixed(v)),
    ),
    # PowerShell's `ConvertTo-SecureString X -AsPlainText` with the string unquoted (one word: no spaces, no call).
    rule(
        "password",
        r"(?i)\bConvertTo-SecureString\s+(?:-String\s+)?([^\s\"'$(\-][^\s\"'()]{2,})\s+-AsPlainText\b",
        ("securestring",),
        group=1,
        check=not_masked,
    ),
    # SonarQube's scanner property sonar.login holds a token (or a user, with sonar.password: a generated value only).
    rule(
        "token",
        r"\bsonar\.login[\"']?\s*[=:]\s*([\"']?)([^\s\"']{16,})\1",
        ("sonar.login",),
        group=2,
        check=lambda v: not_masked(v) and (looks_random(v) or mixed(v)),
    ),
    # YAML's tag or anchor before a secret's value: `password: !!str X`, `password: &pw X` (the value is after it).
    rule(
        "secret",
        r"(?<![\w.\-])([A-Za-z_][\w.\-]{0,80})[\"']?\s*:\s+(?:(?:!!?[\w/:.\-]*|&[\w\-]+)\s+){1,2}([\"']?)([^\s\"'#|>][^\s\"']{2,})\2",
        NAME_VALUE_TRIGGERS,
        group=3,
        check=not_masked,
        named=1,
        needs=(": !", ": &"),
    ),
)
