"""Secrets a command prints alone on the next line, and secrets a tool or a message states in words (pure)."""

from __future__ import annotations

import re

from bot.core.redact_names import name_kind
from bot.core.redact_tokens import TokenRule, generated, rule

# A command as a CI log echoes it: GitLab's `$ `, `set -x`'s `+ `, a shell or PowerShell prompt, GitHub Actions'
# `Run `, with the runner's colour codes before it; then `sudo` or `NAME=value` prefixes.
_PROMPT = (
    r"\s*(?:\x1b\[[0-9;]*[A-Za-z])*(?:[$#>%]|\+{1,3}|PS[^>\n]{0,80}>|(?:##\[group\])?Run)\s+"
    r"(?:sudo\s+(?:-\S+\s+){0,4})?(?:[A-Za-z_]\w{0,60}=\S{0,200}\s+){0,4}"
)
# kubectl's global flags before the verb (`kubectl -n prod get secret …`), at most four.
_KUBECTL_FLAGS = r"(?:--?[\w\-]+(?:[= ][^\s\-]\S*)?\s+){0,4}"
_NAME = r"[\"']?([A-Za-z_][\w.\-]{0,80})[\"']?"
# Commands whose whole output is a secret (their documented purpose), or a named value when the name holds one: a
# command's group is that name; a command without a group prints nothing but a secret.
_PRINTERS = (
    # Terraform and OpenTofu outputs, Pulumi's with --show-secrets, Heroku's config:get, echo/printenv of a variable.
    r"(?:terraform|tofu)(?:\s+-chdir=\S+)?\s+output\s+(?:-(?:raw|json|no-color|state=\S+)\s+)*" + _NAME,
    r"pulumi\s+stack\s+output\b[^|>\n]{0,200}--show-secrets",
    r"heroku\s+config:get\s+" + _NAME,
    r"(?:echo|printenv)\s+(?:-n\s+)?[\"']?\$?\{?([A-Za-z_]\w{0,80})\}?[\"']?\s*$",
    # Secret stores' read commands: Vault/OpenBao's -field, AWS, Google, Azure, 1Password, Doppler, sops, Docker's
    # secret mounts, a Kubernetes secret's data through jsonpath or a template.
    r"(?:vault|bao)\s+(?:kv\s+get|read)\s+(?:-\S+\s+){0,6}?-field[= ]" + _NAME,
    r"aws\s+secretsmanager\s+get-secret-value\b(?=[^|>\n]{0,400}--output[= ]text)",
    r"aws\s+ssm\s+get-parameters?\b(?=[^|>\n]{0,400}--with-decryption)(?=[^|>\n]{0,400}--output[= ]text)",
    r"gcloud\s+secrets\s+versions\s+access\b",
    r"az\s+keyvault\s+secret\s+show\b(?=[^|>\n]{0,400}(?:-o|--output)[= ]tsv)",
    r"op\s+read\s+[\"']?op://",
    r"doppler\s+secrets\s+get\b(?=[^|>\n]{0,400}--plain)",
    r"sops\s+(?:-d|--decrypt)\b(?=[^|>\n]{0,400}--extract)",
    r"cat\s+/run/secrets/",
    r"cat\s+\S*\.pgpass\s*$",  # one line, host:port:db:user:password
    # jq/yq reading a field named as a secret (`jq -r .password creds.json`), macOS' keychain and Bitwarden's CLI.
    r"(?:jq|yq)\s+(?:-\S+\s+){0,4}[\"']?(?:\.[\w\-\[\]\"]{1,80}){0,8}\.([A-Za-z_][\w\-]{0,80})[\"']?(?:\s+\S+)?\s*$",
    r"security\s+find-(?:generic|internet)-password\b(?=[^|>\n]{0,400}\s-w\b)",
    r"bw\s+get\s+(?:password|totp)\b",
    r"kubectl\s+" + _KUBECTL_FLAGS + r"get\s+secrets?\b(?=[^|>\n]{0,400}(?:jsonpath|go-template)=)",
    # Commands that print a fresh credential: cloud access tokens, registry passwords, a generated key.
    r"gcloud\s+auth\s+(?:application-default\s+)?print-(?:access|identity)-token\b",
    r"aws\s+ecr(?:-public)?\s+get-login-password\b",
    r"aws\s+codeartifact\s+get-authorization-token\b(?=[^|>\n]{0,400}--output[= ]text)",
    r"az\s+account\s+get-access-token\b(?=[^|>\n]{0,400}(?:-o|--output)[= ]tsv)",
    r"(?:vault|bao)\s+print\s+token\b",
    r"gh\s+auth\s+token\b",
    r"heroku\s+auth:token\b",
    r"kubectl\s+" + _KUBECTL_FLAGS + r"create\s+token\b",
    r"argocd\s+admin\s+initial-password\b",
    r"kubeadm\s+token\s+(?:create|generate)\b(?![^|>\n]{0,400}--print-join-command)",
    r"argocd\s+account\s+generate-token\b",
    r"fly(?:ctl)?\s+(?:auth\s+token|tokens\s+create\s+\w+)\b",
    r"buildkite-agent\s+secret\s+get\s+" + _NAME,
    r"openssl\s+rand\s+-(?:hex|base64)\b",
    r"python[\d.]*\s+-c\s+[^|>\n]{0,200}\bsecrets\.token_(?:hex|urlsafe)\b",
)
# Marks a kind named by a weak name (`key`, `auth`): the printed value is taken only when it looks generated.
WEAK = "weak:"
# The first character of such a line (after spaces): a cheap test before the regex, on every line the pre-filter passes.
PROMPT_FIRST = frozenset("\x1b\t$#>%+PR")
PRINTER = re.compile(_PROMPT + r"(?:" + "|".join(f"(?:{p})" for p in _PRINTERS) + r")")
# The output goes elsewhere: redirected to a file, piped into a command other than a filter of the value itself.
_NOT_PRINTED = re.compile(r"(?<![<2&])>(?!&)|\|\s*(?!(?:base64\w*|tr|head|tail|cut|sed|jq|xargs\s+echo)\b)[\w./]")
# The runner's own lines and a command's are never a printed value.
NOT_A_VALUE = re.compile(r"^(?:[$#+>]|\x1b|section_(?:start|end):|(?:ERROR|WARNING|Error|Warning)\b)")
# A printed secret: one word, perhaps in the quotes `terraform output -json` gives a string.
PRINTED_VALUE = re.compile(r"^(\s*)([\"']?)([^\s\"']{6,4096})\2,?\s*$")  # a JSON value's comma after it
PRINTER_TRIGGERS = ("openssl rand",)  # every other printer's line holds a pre-filter word already (token, secret...)


def printed_secret_kind(line: str) -> str:
    """The kind of secret the command on this line prints on the next line, or "" (not such a command)."""
    match = PRINTER.match(line)
    if match is None or _NOT_PRINTED.search(line, match.end()):
        return ""
    name = next((group for group in match.groups() if group is not None), None)
    if name is None:
        return "secret"
    named = name_kind(name)
    if named is None:
        return ""
    return named[0] if named[1] else WEAK + named[0]  # `echo $KEY`: a weak name, the value must look generated


# --- secrets stated in words -----------------------------------------------------------------------------------
# The value of a message: one word that looks generated (prose's next word after "is" is seldom one).
_PROSE_VALUE = r"[\"'`]?([^\s\"'`,;]{6,200})"
# The nouns case by case (lower, Capitalised, UPPER), not under (?i): the regex engine then rejects most places of a
# line on their first character (a case-blind alternation is tried letter by letter everywhere, twice as slow).
_NOUN = r"(?:[Pp]ass(?:word|phrase|wd)|PASS(?:WORD|PHRASE|WD)|(?:[Aa]pi|API)[ _-]?(?:[Kk]ey|KEY)|[Tt]oken|TOKEN|[Ss]ecret|SECRET)"
# What links the noun to its value: "is", "was set to", "for user U:", "created:".
_LINK = (
    r"(?i:\s+for\s+(?:the\s+)?(?:user\s+)?[\w@.\-\[\]']{1,64}(?:\s+is)?\s*:?"
    r"|\s+(?:is|was|has\s+been|is\s+now)(?:\s+(?:set|changed|reset|updated|generated))?(?:\s+to)?\s*:?"
    r"|\s+(?:created|generated)(?:\s+successfully)?\s*:)"
)


def _generated(value: str) -> bool:
    """A word that was generated, not written: a long random run, or digits with both letter cases (a password)."""
    return generated(value.rstrip("."))


_PROSE_TRIGGERS = ("passw", "passphrase", "token", "secret", "key")
PROSE_RULES: tuple[TokenRule, ...] = (
    # One rule (each is a call on every line holding its words): "Your password is X", "The API key is: X", "password
    # was set to X", "Password for user postgres: X", "API key created: X", "Created user ci with password X";
    # "Generated password for user admin: X", MySQL's "A temporary password is generated for root@localhost: X",
    # Elasticsearch's "The generated password for the elastic built-in superuser is : X". The look-ahead of first
    # letters lets the regex engine skip to them (a leading `\b` alone does not).
    rule(
        "secret",
        r"(?=[PpAaTtSsGgIiNnRrDd])\b(?:"
        + _NOUN
        + _LINK
        + r"|[Pp]assword(?<=[Ww]ith [Pp]assword)"
        + r"|(?i:generated|temporary|initial|new|random|default)\s+"
        + _NOUN
        + r"\b[^:\n]{0,80}?\s?:)\s+"
        + _PROSE_VALUE,
        _PROSE_TRIGGERS,
        group=1,
        check=_generated,
        needs=(
            " is",
            " IS",
            " for ",
            " was ",
            " been ",
            "ith ",
            "reated",
            "enerated",
            "emporary",
            "nitial",
            "ew ",
            "andom",
            "efault",
        ),
    ),
)
