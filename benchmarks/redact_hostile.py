"""Redaction of hostile log lines: one huge line repeating a word the redactor looks at, timed in CPU seconds.

A job log is input from outside: a line of a few hundred kilobytes that repeats `-storepass ` or `Authorization:
Bearer ` must cost the analysis job about as much as any other line of that size, not minutes. Each case is
redacted whole (`redact_text`) and streamed (`StreamRedactor`, 64 KiB chunks), by a fresh redactor.

Usage (from the repository root; PYTHONPATH=<other checkout> measures another tree's `bot`):
  .venv/bin/python benchmarks/redact_hostile.py [--repeats 60000]
"""

from __future__ import annotations

import argparse
import time

from bot.core.redact import Redactor, StreamRedactor

CASES = {
    "bearer": "bearer ",
    "-storepass": "-storepass ",
    "-password": "-password ",
    "token": "token ",
    "Authorization: Bearer": "Authorization: Bearer ",
    "key=value": "key=value ",
    "URL credentials": "https://a:b@c ",
    "base64": "c2VjcmV0LXRva2VuLXZhbHVl ",
    "percent-encoded @": "p%40ss ",
    "glpat-": "glpat-",
    "_PW=": "_PW=",
    # a tool's name with no password flag after it: each occurrence starts a search for the flag
    "mysql": "mysql ",
    "login": "login ",
    "gh secret set": "gh secret set a ",
    "sshpass": "sshpass -x ",
    # December 7, evening: zip's option clusters, htpasswd as an entrypoint, glab's flags before the name, a here-string
    # decoded, a string piped to ConvertTo-SecureString, a pair whose value is scanned again, requests' auth classes
    "zip -rP": "zip -rP ",
    "zip -r": "zip -r ",
    "--entrypoint htpasswd": "--entrypoint htpasswd ",
    "glab variable set -m": "glab variable set -m ",
    "base64 -d <<<": "base64 -d <<< ",
    "'x' | ConvertTo-SecureString": "'x' | ConvertTo-SecureString ",
    "upload-key": "upload-key ",
    "HTTPBasicAuth('a',": "HTTPBasicAuth('a', ",
    # December 7, night: deploy tools' own secret flags and arguments
    "ssh-keygen": "ssh-keygen ",
    "openssl enc": "openssl enc ",
    "twine upload": "twine upload ",
    "doctl": "doctl ",
    "snyk auth": "snyk auth ",
    "mc alias set a b c": "mc alias set a b c ",
    "rclone config create": "rclone config create ",
    # setters and secret stores: a quoted name in a call or a subscript, a two-column listing, the stores' commands
    '("api_token", ': '("api_token", ',
    '["api_token"] = ': '["api_token"] = ',
    "API_TOKEN   x": "API_TOKEN   x",
    "put-parameter --value": "put-parameter --value ",
    "consul kv put -x": "consul kv put -x ",
    "echo x | ": "echo x | ",
    "security import": "security import ",
    "bundle config a.b": "bundle config a.b ",
    "mc admin user add": "mc admin user add ",
    "rclone config password": "rclone config password ",
    "x = HTTPBasicAuth(a,": "x = HTTPBasicAuth(a, ",
    "--entrypoint /a/htpasswd": "--entrypoint /a/htpasswd ",
    # databases', services' and system accounts' own ways to set a password
    ".setPassword('x')": ".setPassword('x') ",
    "redis-cli AUTH": "redis-cli AUTH ",
    "echo 'a:b' | chpasswd": "echo 'a:b' | chpasswd ",
    "openssl passwd -salt": "openssl passwd -salt ",
    # a value the name/value scanner left alone, read again for names
    "key=key": "key=key ",
    'k_key="a_key=': 'k_key="a_key=',
    "| wrangler secret put a <<<": "| wrangler secret put a <<< ",
    "drone secret add": "drone secret add ",
    # December 8: a sixth probe's words (stdin readers, secret files, publish and Windows tools, set-env style setters)
    "echo x > a_pass": "echo xY1zzzzz > a_pass ",
    "--password-file <(echo": "--password-file <(echo ",
    "gpg --passphrase-fd 0": "gpg --passphrase-fd 0 ",
    "login -pX": "login -pXy1abc ",
    "config set --": "config set -- ",
    'config set a["b"]': 'config set a["b"]',
    "Authorization: Scheme": "Authorization: Scheme ",
    "variable create --name a": "variable create --name a ",
    "cf set-env a b": "cf set-env a b ",
    "dvc remote modify a": "dvc remote modify a ",
    "cf auth": "cf auth ",
    "bw unlock --raw": "bw unlock --raw ",
    "authtoken": "authtoken ",
    "reset-admin-password --x": "reset-admin-password --x ",
    '<entry key="api.token">': '<entry key="api.token">',
    "psexec": "psexec ",
    "signtool sign": "signtool sign ",
    "cmdkey": "cmdkey ",
    "poetry publish": "poetry publish ",
    "vsce publish": "vsce publish ",
    "--admin-pass": "--admin-pass ",
    " /password:": " /password:",
    "jdbc:oracle:thin:a/": "jdbc:oracle:thin:a/",
    # December 9: prose about a secret, a YAML tag before a value, sops' setters, NuGet's positional key, a command
    # that prints a secret on the next line (matched at the line's start only), SQL Server setup's /SAPWD
    "password is": "password is ",
    "password for user a": "password for user a ",
    "generated password for": "generated password for ",
    "with password": "with password ",
    "token created": "token created ",
    "password: !!str": "password: !!str ",
    "key: &a": "key: &a ",
    'sops --set \'["a"]': 'sops --set \'["a"]',
    "sops set a '": "sops set a '",
    "nuget push a.nupkg": "nuget push a.nupkg ",
    "ConvertTo-SecureString a": "ConvertTo-SecureString a ",
    "/SAPWD:": " /SAPWD:",
    "sonar.login=": "sonar.login=",
    "$ terraform output -raw db_password": "$ terraform output -raw db_password ",
    "$ jq -r .a.b.c": "$ jq -r .a.b.c",
    # the eighth probe's shapes: a Go struct's fields, print_r, Scala's arrow, a value before its name, Digest
    "{Password:a ": "{Password:a ",
    "[password] => ": "[password] => ",
    "api_key -> ": "api_key -> ",
    "using abcdefgh1A for ": "using abcdefgh1A for ",
    "abcdefgh1A is the token": "abcdefgh1A is the token ",
    "Authorization: Digest response=": "Authorization: Digest response=",
    "\\r\\nAuthorization: ": "\\r\\nAuthorization: ",
    "https://abcdefghijklmnopqrstu@": "https://abcdefghijklmnopqrstu@",
    "pat.": "pat.",
    # the ninth probe's shapes: CI logging commands, DB and login clients' forms, setters, keywords, a line's view
    "##vso[task.setvariable issecret=true": "##vso[task.setvariable issecret=true ",
    "::set-output name=api_token:": "::set-output name=api_token:",
    "a:b@tcp(": "a:b@tcp(",
    "BUNDLE_A__B=": "BUNDLE_A__B=",
    "ldapsearch -w": "ldapsearch -w",
    "expdp a/b": "expdp a/b",
    "sudo -S <<<": "sudo -S <<< ",
    "echo a | sudo": "echo a | sudo ",
    "set -x api_token": "set -x api_token ",
    "Set-Item Env:api_key": "Set-Item Env:api_key ",
    "buildkite-agent meta-data set": "buildkite-agent meta-data set ",
    ":api-key ": ":api-key ",
    "?code=": "?code=abcdefghijklmnopqrstu",
    "\\x1b[0m=": "token\x1b[0m=",
    '\\"token\\":': '\\"token\\":',
    "&quot;token&quot;:": "&quot;token&quot;:",
    "password = b'": "password = b'",
    '"password":': '"password":',
    # the tenth probe's: a secret's name before a URL-encoded '=' (stop 25's review: 18 s at 200k characters)
    "password%3d": "password%3d",
    # the eleventh probe's (redact13): Make's operators, an array's item, an echoed substitution, Poetry's token
    # variables, GitHub's x-oauth-basic user, kubeadm's bootstrap tokens, a mask's clear half, Terraform's default
    "password[0]=": "password[0]=",
    "password[0] then spaces": "password[0]     ",
    "DB_PASS ?= ": "DB_PASS ?= ",
    "token ::= ": "token ::= ",
    "secret=`echo ": "secret=`echo ",
    "token=$(echo ": "token=$(echo ",
    "POETRY_PYPI_TOKEN_A=": "POETRY_PYPI_TOKEN_A=",
    "https://abcdefghijklmnopqrstu:x-oauth-basic@": "https://abcdefghijklmnopqrstu:x-oauth-basic@",
    "kubeadm abcdef.": "kubeadm abcdef.",
    'variable "db_password" {': 'variable "db_password" {',
    "timestamped PEM BEGIN": "2024-05-01T10:22:13Z -----BEGIN RSA PRIVATE KEY-----",
    # the fourteenth probe's (redact14): Terraform's one-line and timestamped variables, a heredoc default, Bash's
    # arrays, Make's `+=`, a PEM block behind log prefixes (compose's service, a bracketed time with its zone)
    'variable "db_password" { default = "': 'variable "db_password" { default = "',
    "variable default = default = ": 'variable "db_password" { default = default = ',
    "stamped variable {": '2024-05-01T10:22:13.123456Z 00O variable "db_password" {\n',
    "stamped default =": "2024-05-01T10:22:13.123456Z 00O   default = ",
    "default = <<EOT": "default = <<EOT\n",
    "tokens=(": "tokens=(",
    "tokens=(a ": "tokens=(a ",
    "password=('": "password=('",
    "API_TOKEN += ": "API_TOKEN += ",
    "svc-1  | PEM BEGIN": "svc-1  | -----BEGIN RSA PRIVATE KEY-----\nsvc-1  | ",
    "[time+00:00] PEM BEGIN": "[2024-05-01T10:22:13+00:00] -----BEGIN RSA PRIVATE KEY-----\n",
}
# A word, then one character repeated (the line's length comes from the run, not from repeating the word): a rule
# whose pattern reads that character in two ways (`-\w*S\w*` over SSSS, `[A-Z_]*__` over ____) backtracks over
# the run from each place in it. Stop 24's review found these four; each took 20-66 s at 50k characters.
RUNS = {
    "BUNDLE_ then _": ("BUNDLE_", "_"),
    "sudo - then S": ("sudo -", "S"),
    "set - then x": ("set -", "x"),
    "token then backslashes": ("token ", "\\"),
    # a long run of URL characters with no `%XX` in it, and a '%' after the run (the percent rule's run, stop 25)
    "token: then a run then %": ("token:", "a"),
    # a line of spaces inside a PEM block: its body's pattern split the run between two stars (redact13: 140 s)
    "PEM BEGIN then spaces": ("-----BEGIN RSA PRIVATE KEY-----\n", " "),
    # redact14: an array's one long item, quoted and not closed; a compose prefix's name run; a stamped heredoc
    "tokens=(' then a": ("tokens=('", "a"),
    "password=(x then y": ("password=(x", "y"),
    "PEM BEGIN then a name run": ("-----BEGIN RSA PRIVATE KEY-----\n", "a"),
    'variable "db_password" then { default': ('variable "db_password" {', " "),
}
CHUNK = 64 * 1024


def cpu(func) -> float:
    start = time.process_time()
    func()
    return time.process_time() - start


def streamed(text: str) -> None:
    stream = StreamRedactor(Redactor())
    for i in range(0, len(text), CHUNK):
        stream.feed(text[i : i + CHUNK])
    stream.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=60_000, help="times each word is repeated on its line")
    args = parser.parse_args()
    print("| line | characters | redact_text, CPU s | StreamRedactor, CPU s |")
    print("| --- | ---: | ---: | ---: |")
    for name, word in CASES.items():
        text = word * args.repeats
        whole = cpu(lambda text=text: Redactor().redact_text(text))
        stream = cpu(lambda text=text: streamed(text))
        print(f"| `{name}` | {len(text):,} | {whole:.3f} | {stream:.3f} |", flush=True)
    for name, (word, char) in RUNS.items():
        text = word + char * args.repeats + ("%" if name.endswith("%") else " <<< x api_token")
        whole = cpu(lambda text=text: Redactor().redact_text(text))
        stream = cpu(lambda text=text: streamed(text))
        print(f"| `{name}` (a run) | {len(text):,} | {whole:.3f} | {stream:.3f} |", flush=True)


if __name__ == "__main__":
    main()
