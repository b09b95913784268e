"""Secret redaction: planted secrets are all caught, ordinary log lines are all left alone."""

from __future__ import annotations

import base64
import json
import random
import re
import string
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.redact import (
    MAX_PENDING_CHARS,
    Redactor,
    StreamRedactor,
    looks_random,
    placeholder,
    shannon_entropy,
)
from bot.core.redact_payload import redact_payload
from tests.helpers import DATA, ROOT
from tests.secrets_kit import encoded, survivors

CORPUS = DATA / "redaction"
SHARED = ROOT.parent / "shared" / "datasets" / "logchunks-dev"

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
UPPER_DIGITS = string.ascii_uppercase + string.digits
_rng = random.Random(20240501)


def rand(n: int, alphabet: str = ALNUM) -> str:
    # Mixed case and digits every time, as generated keys are.
    while True:
        value = "".join(_rng.choice(alphabet) for _ in range(n))
        if (
            alphabet != ALNUM
            or n < 6
            or (any(c.isdigit() for c in value) and any(c.isupper() for c in value) and any(c.islower() for c in value))
        ):
            return value


def rand_mixed(n: int, alphabet: str) -> str:
    """Random text of an alphabet wider than letters and digits, still with both cases and a digit."""
    while True:
        value = rand(n, alphabet)
        if any(c.isdigit() for c in value) and any(c.isupper() for c in value) and any(c.islower() for c in value):
            return value


def rand_letters(n: int) -> str:
    while True:
        value = rand(n, string.ascii_letters)
        if any(c.isupper() for c in value) and any(c.islower() for c in value):
            return value


def b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def pem_body_lines() -> list[str]:
    return [rand(64, ALNUM + "+/") for _ in range(6)] + [rand(20, ALNUM + "+/") + "=="]


# Fake secrets in each real format, built at run time so the repository holds no token-shaped text.
GENERATORS = {
    "glpat": lambda: "glpat-" + rand(20),
    "glpat_routable": lambda: "glpat-" + rand(27) + ".01." + rand(9),
    "gloas": lambda: "gloas-" + rand(64, "0123456789abcdef"),
    "gldt": lambda: "gldt-" + rand(20),
    "glrt": lambda: "glrt-" + rand(20),
    "glcbt": lambda: "glcbt-64_" + rand(20),
    "glptt": lambda: "glptt-" + rand(40, "0123456789abcdef"),
    "glft": lambda: "glft-" + rand(20),
    "glimt": lambda: "glimt-" + rand(25, string.ascii_lowercase + string.digits),
    "glagent": lambda: "glagent-" + rand(50),
    "glsoat": lambda: "glsoat-" + rand(20),
    "glffct": lambda: "glffct-" + rand(20),
    "gr_reg": lambda: "GR1348941" + rand(20),
    "xoxb": lambda: "xoxb-" + rand(11, string.digits) + "-" + rand(13, string.digits) + "-" + rand(24),
    "xoxp": lambda: (
        "xoxp-" + rand(11, string.digits) + "-" + rand(12, string.digits) + "-" + rand(32, "0123456789abcdef")
    ),
    "xapp": lambda: (
        "xapp-1-A"
        + rand(10, string.ascii_uppercase + string.digits)
        + "-"
        + rand(13, string.digits)
        + "-"
        + rand(64, "0123456789abcdef")
    ),
    "slack_hook": lambda: (
        "https://hooks.slack.com/services/T"
        + rand(8, string.ascii_uppercase)
        + "/B"
        + rand(8, string.ascii_uppercase)
        + "/"
        + rand(24)
    ),
    "akia": lambda: "AKIA" + rand(16, string.ascii_uppercase + "234567"),
    "aws_secret": lambda: rand(40, ALNUM + "/+"),
    "aiza": lambda: "AIza" + rand(35),
    "gcp_sa": lambda: (
        "-----BEGIN PRIVATE KEY-----\\n" + "\\n".join(pem_body_lines()) + "\\n-----END PRIVATE KEY-----\\n"
    ),
    "azure_key": lambda: rand(86, ALNUM + "+/") + "==",
    "azure_sig": lambda: quote(rand(43, ALNUM + "+/") + "=", safe=""),
    "openai_proj": lambda: "sk-proj-" + rand(48) + "T3BlbkFJ" + rand(20),
    "openai_legacy": lambda: "sk-" + rand(20) + "T3BlbkFJ" + rand(20),
    "anthropic": lambda: "sk-ant-api03-" + rand(93, ALNUM + "-_") + "AA",
    "ghp": lambda: "ghp_" + rand(36),
    "gho": lambda: "gho_" + rand(36),
    "ghs": lambda: "ghs_" + rand(36),
    "github_pat": lambda: "github_pat_" + rand(22) + "_" + rand(59),
    "npm": lambda: "npm_" + rand(36),
    "pypi": lambda: "pypi-AgEIcHlwaS5vcmc" + rand(70, ALNUM + "-_"),
    "jwt": lambda: (
        b64url({"alg": "RS256", "typ": "JWT"})
        + "."
        + b64url({"sub": "project_path:acme/app", "exp": 1717171717})
        + "."
        + rand(43, ALNUM + "-_")
    ),
    "password": lambda: rand(6) + "!" + rand(6, ALNUM + "_*-"),
    "hexsecret": lambda: rand(36),
    # Prefixed formats of other vendors, each in its documented shape.
    "stripe_live": lambda: "sk_live_51" + rand(97),
    "stripe_test": lambda: "sk_test_" + rand(24),
    "stripe_rk": lambda: "rk_live_" + rand(24),
    "whsec": lambda: "whsec_" + rand(32),
    "sendgrid": lambda: "SG." + rand_mixed(22, ALNUM + "-_") + "." + rand_mixed(43, ALNUM + "-_"),
    "mailgun": lambda: "key-" + rand(32, HEX),
    "square": lambda: "sq0atp-" + rand_mixed(22, ALNUM + "-_"),
    "square_csp": lambda: "sq0csp-" + rand_mixed(43, ALNUM + "-_"),
    "telegram": lambda: rand(1, "123456789") + rand(9, string.digits) + ":AA" + rand_mixed(33, ALNUM + "-_"),
    "discord_hook": lambda: (
        "https://discord.com/api/webhooks/" + rand(1, "123456789") + rand(18, string.digits) + "/" + rand(68)
    ),
    "hf": lambda: "hf_" + rand_letters(34),
    "hf_org": lambda: "api_org_" + rand_letters(34),
    "databricks": lambda: "dapi" + rand(32, HEX),
    "replicate": lambda: "r8_" + rand(37),
    "groq": lambda: "gsk_" + rand(52),
    "perplexity": lambda: "pplx-" + rand(48),
    "xai": lambda: "xai-" + rand(80),
    "dynatrace": lambda: "dt0c01." + rand(24, UPPER_DIGITS) + "." + rand(64, UPPER_DIGITS),
    "newrelic": lambda: "NRAK-" + rand(27, UPPER_DIGITS),
    "newrelic_insert": lambda: "NRII-" + rand_mixed(32, ALNUM + "-_"),
    "newrelic_license": lambda: rand(36, HEX) + "NRAL",
    "grafana": lambda: "glc_eyJ" + rand_mixed(90, ALNUM + "+/") + "=",
    "grafana_sa": lambda: "glsa_" + rand(32) + "_" + rand(8, HEX),
    "sentry_org": lambda: (
        "sntrys_"
        + b64url({"iat": 1717171717.1, "url": "https://sentry.io", "region_url": "https://de.sentry.io", "org": "acme"})
        + "_"
        + rand(43)
    ),
    "sentry_user": lambda: "sntryu_" + rand(64, HEX),
    "atlassian": lambda: "ATATT3xFfGF0" + rand_mixed(170, ALNUM + "-_") + "=" + rand(8, HEX.upper()),
    "linear": lambda: "lin_api_" + rand(40),
    "postman": lambda: "PMAK-" + rand(24, HEX) + "-" + rand(34, HEX),
    "docker_pat": lambda: "dckr_pat_" + rand_mixed(27, ALNUM + "-_"),
    "digitalocean": lambda: "dop_v1_" + rand(64, HEX),
    "digitalocean_oauth": lambda: "doo_v1_" + rand(64, HEX),
    "shopify": lambda: "shpat_" + rand(32, HEX),
    "shopify_secret": lambda: "shpss_" + rand(32, HEX),
    "doppler": lambda: "dp.pt." + rand(43),
    "doppler_service": lambda: "dp.st.prd." + rand(40),
    "vault": lambda: "hvs.CAESI" + rand_mixed(86, ALNUM + "-_"),
    "vault_batch": lambda: "hvb.AAAAAQ" + rand_mixed(150, ALNUM + "-_"),
    "terraform": lambda: rand(14) + ".atlasv1." + rand(67),
    "pulumi": lambda: "pul-" + rand(40, HEX),
    "supabase": lambda: "sbp_" + rand(40, HEX),
    "supabase_secret": lambda: "sb_secret_" + rand(31),
    "heroku": lambda: "HRKU-AA" + rand_mixed(58, ALNUM + "-_"),
    "vercel": lambda: "vcp_" + rand(56),
    "flyio": lambda: "fm2_lJPE" + rand_mixed(180, ALNUM + "+/") + "==",
    "flyio_oauth": lambda: "fo1_" + rand_mixed(43, ALNUM + "-_"),
    "planetscale": lambda: "pscale_tkn_" + rand(43),
    "rubygems": lambda: "rubygems_" + rand(48, HEX),
    "sonar": lambda: "sqp_" + rand(40, HEX),
    "sonar_user": lambda: "squ_" + rand(40, HEX),
    "buildkite": lambda: "bkua_" + rand(40, HEX),
    "prefect": lambda: "pnu_" + rand(36),
    "onepassword": lambda: "ops_eyJ" + rand_mixed(250, ALNUM + "-_"),
    "tailscale": lambda: "tskey-auth-" + rand(17) + "-" + rand(33),
    "jfrog": lambda: "AKCp" + rand(69),
    "jfrog_ref": lambda: "cmVmdGtuOjAxOj" + rand(50),
    "mapbox": lambda: "sk.eyJ" + rand_mixed(60, ALNUM + "-_") + "." + rand_mixed(22, ALNUM + "-_"),
    "azure_ad": lambda: rand(3) + rand(1, string.digits) + "Q~" + rand_mixed(34, ALNUM + "_~.-"),
    "azure_devops": lambda: rand(76) + "AZDO" + rand(4),
    "google_oauth": lambda: "GOCSPX-" + rand_mixed(28, ALNUM + "-_"),
    "age": lambda: "AGE-SECRET-KEY-1" + rand(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"),
    "netlify": lambda: "nfp_" + rand(36),
    "contentful": lambda: "CFPAT-" + rand_mixed(43, ALNUM + "-_"),
    "figma": lambda: "figd_" + rand_mixed(40, ALNUM + "-_"),
    "notion": lambda: "ntn_" + rand(46),
    "notion_legacy": lambda: "secret_" + rand(43),
    "circleci": lambda: "CCIPAT_" + rand(22) + "_" + rand(40, HEX),
    "posthog": lambda: "phx_" + rand(43),
    "mailersend": lambda: "mlsn." + rand(64, HEX),
    "hubspot": lambda: "pat-na1-" + "-".join(rand(n, HEX) for n in (8, 4, 4, 4, 12)),
    "brevo": lambda: "xkeysib-" + rand(64, HEX) + "-" + rand(16),
    "shippo": lambda: "shippo_live_" + rand(40, HEX),
    "flutterwave": lambda: "FLWSECK-" + rand(32, HEX) + "-X",
    "nvidia": lambda: "nvapi-" + rand_mixed(64, ALNUM + "-_"),
    "eks": lambda: "k8s-aws-v1." + rand_mixed(180, ALNUM + "-_"),
    "harness": lambda: "pat." + rand_mixed(22, ALNUM + "-_") + "." + rand(24) + "." + rand(20),
    "octopus": lambda: "API-" + rand(26, UPPER_DIGITS),
    "infracost": lambda: "ico-" + rand(32),
    "sourcegraph": lambda: "sgp_" + rand(16, HEX) + "_" + rand(40, HEX),
    "sourcegraph_local": lambda: "sgp_local_" + rand(40, HEX),
    "readme": lambda: "rdme_" + rand(70, string.ascii_lowercase + string.digits),
    "clojars": lambda: "CLOJARS_" + rand(60, string.ascii_lowercase + string.digits),
    "scalingo": lambda: "tk-us-" + rand_mixed(48, ALNUM + "-_"),
    "frameio": lambda: "fio-u-" + rand_mixed(64, ALNUM + "-_"),
    "typeform": lambda: "tfp_" + rand_mixed(59, ALNUM + "-_"),
    "cloudflare_origin": lambda: "v1.0-" + rand(24, HEX) + "-" + rand(146, HEX),
    "dockerconfigjson": lambda: base64.b64encode(
        json.dumps({"auths": {"registry.example.com": {"auth": base64.b64encode(b"ci:" + rand(20).encode()).decode()}}})
        .replace(" ", "")
        .encode()
    ).decode(),
}


def planted() -> list[tuple[str, str, str]]:
    """(kind, secret, line) for every template in the corpus."""
    rows = []
    for raw in (CORPUS / "planted_secrets.tsv").read_text().splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        kind, generator, template = raw.split("\t")
        secret = GENERATORS[generator]()
        rows.append((kind, secret, template.replace("{s}", secret)))
    return rows


PLANTED = planted()
# Kinds whose secret is not remembered for its re-prints: a PEM key is replaced line by line, never learnt whole.
REPRINT_EXEMPT = frozenset({"private-key"})


def encoded_reprints() -> list[tuple[str, list[str], str]]:
    """(kind, strings that must disappear, line): base64 and URL-encoded re-prints."""
    password = GENERATORS["password"]() + "@#"
    gitlab, github, slack = GENERATORS["glpat"](), GENERATORS["ghp"](), GENERATORS["xoxb"]()
    userpass = base64.b64encode(f"deployer:{password}".encode()).decode()
    rows = [
        ("auth", [userpass, password], json.dumps({"auths": {"registry.gitlab.com": {"auth": userpass}}})),
        ("authorization", [userpass], f"> Authorization: Basic {userpass}"),
        (
            "gitlab-token",
            [base64.b64encode(gitlab.encode()).decode()],
            f"$ echo {base64.b64encode(gitlab.encode()).decode()} | base64 -d > ~/.token",
        ),
        (
            "gitlab-token",
            [base64.b64encode(f"oauth2:{gitlab}".encode()).decode()],
            f"auth blob: {base64.b64encode(f'oauth2:{gitlab}'.encode()).decode()}",
        ),
        (
            "github-token",
            [base64.b64encode(github.encode()).decode().rstrip("=")],
            f"printf %s {base64.b64encode(github.encode()).decode()} | base64 --decode",
        ),
        (
            "slack-token",
            [base64.b64encode(slack.encode()).decode().rstrip("=")],
            f"kubectl create secret generic slack --from-literal=x={base64.b64encode(slack.encode()).decode()}",
        ),
        (
            "password",
            [quote(password, safe=""), password],
            f"DATABASE_URL=postgresql://app:{quote(password, safe='')}@db.internal:5432/payments",
        ),
        (
            "password",
            [quote(password, safe="")],
            "redirect=" + quote(f"https://deploy:{password}@nexus.example.com/repo", safe=""),
        ),
    ]
    return rows


ENCODED = encoded_reprints()


def assert_redacted(out: str, kind: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in out, f"{kind}: secret survived in {out!r}"
    assert placeholder(kind) in out, f"expected {placeholder(kind)} in {out!r}"


@pytest.mark.parametrize("kind,secret,line", PLANTED, ids=[f"{k}:{line[:40]}" for k, _, line in PLANTED])
def test_planted_secret_is_redacted_line_by_line(kind: str, secret: str, line: str) -> None:
    assert_redacted(Redactor().redact_line(line), kind, [secret])


@pytest.mark.parametrize("kind,secrets,line", ENCODED, ids=[f"{k}:{line[:40]}" for k, _, line in ENCODED])
def test_encoded_reprint_is_redacted(kind: str, secrets: list[str], line: str) -> None:
    assert_redacted(Redactor().redact_text(line), kind, secrets)


def test_redaction_keeps_the_url_user_and_host() -> None:
    password = GENERATORS["password"]()
    out = Redactor().redact_line(f"fatal: unable to access 'https://deployer:{password}@git.example.com/acme/app.git/'")
    assert out == "fatal: unable to access 'https://deployer:[REDACTED:password]@git.example.com/acme/app.git/'"


def test_pem_block_is_replaced_line_by_line_and_state_ends_at_end_marker() -> None:
    lines = [
        "$ cat deploy_key",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        *pem_body_lines(),
        "-----END OPENSSH PRIVATE KEY-----",
        "$ ssh -i deploy_key deploy@host true",
        "Permission denied (publickey).",
    ]
    redactor = Redactor()
    out = [redactor.redact_line(line) for line in lines]
    assert out[0] == lines[0]
    assert out[1:-2] == [placeholder("private-key")] * (len(lines) - 3)
    assert out[-2:] == lines[-2:]


def test_cut_short_pem_block_gives_back_the_following_log_lines() -> None:
    redactor = Redactor()
    lines = ["-----BEGIN RSA PRIVATE KEY-----", pem_body_lines()[0], "ERROR: Job failed: exit code 1"]
    out = [redactor.redact_line(line) for line in lines]
    assert out == [placeholder("private-key"), placeholder("private-key"), "ERROR: Job failed: exit code 1"]


def corpus_text() -> tuple[str, list[tuple[str, list[str]]]]:
    """All planted lines, encoded re-prints and a PEM block as one log, with what must vanish."""
    expected: list[tuple[str, list[str]]] = []
    parts: list[str] = []
    for kind, secret, line in PLANTED:
        parts.append(line)
        expected.append((kind, [secret]))
    for kind, secrets, line in ENCODED:
        parts.append(line)
        expected.append((kind, secrets))
    body = pem_body_lines()
    parts.extend(["-----BEGIN EC PRIVATE KEY-----", *body, "-----END EC PRIVATE KEY-----"])
    expected.append(("private-key", body))
    return "\n".join(parts) + "\n", expected


def test_secret_split_across_chunks_is_redacted_at_every_split_point() -> None:
    text, expected = corpus_text()
    whole = Redactor().redact_text(text)
    for size in (1, 7, 64, 1000):
        stream = StreamRedactor(Redactor())
        out = "".join(stream.feed(text[i : i + size]) for i in range(0, len(text), size)) + stream.flush()
        assert out == whole, f"chunk size {size} changed the result"
    for kind, secrets in expected:
        assert_redacted(whole, kind, secrets)


def test_every_split_point_of_one_secret_line() -> None:
    token = GENERATORS["glpat"]()
    line = f"remote: https://oauth2:{token}@gitlab.com/acme/app.git\n"
    for cut in range(1, len(line)):
        stream = StreamRedactor(Redactor())
        out = stream.feed(line[:cut]) + stream.feed(line[cut:]) + stream.flush()
        assert token not in out and placeholder("gitlab-token") in out, cut


def test_stream_with_no_newline_for_a_long_time_still_emits_and_stays_safe() -> None:
    token = GENERATORS["ghp"]()
    filler = "progress " * (MAX_PENDING_CHARS // 9 + 100)
    stream = StreamRedactor(Redactor())
    first = stream.feed(filler + f"token={token} done")
    assert first, "a huge line without newline must not be held back forever"
    out = first + stream.flush()
    assert token not in out and out.endswith("done")


def test_redaction_rates_on_the_corpora() -> None:
    """The headline figures: share of planted secrets caught, share of ordinary lines untouched."""
    text, expected = corpus_text()
    out = Redactor().redact_text(text)
    caught = sum(all(s not in out for s in secrets) and placeholder(kind) in out for kind, secrets in expected)
    ordinary = (CORPUS / "ordinary_lines.txt").read_text().splitlines()
    redactor = Redactor()
    kept = sum(redactor.redact_line(line) == line for line in ordinary)
    print(
        f"\nplanted secrets redacted: {caught}/{len(expected)} ({caught / len(expected):.0%}); "
        f"ordinary lines untouched: {kept}/{len(ordinary)} ({kept / len(ordinary):.0%})"
    )
    assert len(ordinary) >= 200
    assert caught == len(expected)
    assert kept == len(ordinary)


def test_ordinary_corpus_is_unchanged_as_one_text_and_in_chunks() -> None:
    text = (CORPUS / "ordinary_lines.txt").read_text()
    assert Redactor().redact_text(text) == text
    stream = StreamRedactor(Redactor())
    assert "".join(stream.feed(text[i : i + 100]) for i in range(0, len(text), 100)) + stream.flush() == text


@pytest.mark.parametrize(
    "line",
    [
        "tests/test_auth.py::test_token_refresh PASSED",
        "--- PASS: TestSessionCookie (0.00s)",
        "token_type: bearer",
        "key: ${CI_COMMIT_REF_SLUG}",
        "password: ********",
        "token = self.settings.token",
        "secret_detection: passed",
        "  elixir_erl_pass:translate/2",
        "Number of tries to enter a password: 3",
        "$ echo $CI_JOB_TOKEN | docker login -u gitlab-ci-token --password-stdin registry.gitlab.com",
        "git clone https://gitlab-ci-token:[MASKED]@gitlab.com/acme/app.git",
        "Digest: sha256:" + "a" * 64,
        "docker run -u 1000:1000 alpine id",
    ],
)
def test_near_misses_are_left_alone(line: str) -> None:
    assert Redactor().redact_line(line) == line


@pytest.mark.parametrize(
    "line",
    [
        "$ keytool -genkeypair -alias upload-key -storepass {s} -keystore upload.jks",
        "$ helm upgrade app ./chart --set-string name=signing-key --password {s}",
        "Übersetzung: keytool -alias upload-key -storepass {s}",  # not ASCII: the scan at every character
    ],
)
def test_a_pair_left_alone_gives_its_value_back_to_the_scan(line: str) -> None:
    # `upload-key -storepass` was taken as a name and its value; "upload-key" holds no secret, so the pair was left
    # as it was and the scan went on after it: `-storepass`, a name itself, was never looked at (fails before).
    secret = "S3cr3tPassw0rd9"
    out = Redactor().redact_line(line.format(s=secret))
    assert secret not in out and out == line.format(s="[REDACTED:password]")


SCAN_WORDS = [
    "upload-key",
    "-storepass",
    "token",
    "password=abc123",
    "cache_key",
    "x",
    "--password",
    "'s3cr3t'",
    "KEY",
    "secret:",
    "a.b",
    "-alias",
    "DB_PASSWORD",
    '"q"',
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SCAN_WORDS), st.sampled_from([" ", "", "=", "\t", ": "])), max_size=12))
def test_the_assignment_scan_finds_what_a_scan_at_every_character_finds(parts) -> None:
    # The ASCII scan tries the pattern only where a name holding a fragment starts; it must find the same pairs as
    # trying it at every character, a pair left alone giving its value back to the scan in both.
    from bot.core.redact_rules import _sub_everywhere, name_kind, sub_assignments

    def replace(match: re.Match[str]) -> str:
        return match.group(0) if name_kind(match.group("name")) is None else f"<{match.group('name')}>"

    line = "".join(word + sep for word, sep in parts)
    assert sub_assignments(replace, line) == _sub_everywhere(replace, line)


def test_operator_literals_and_patterns_from_settings() -> None:
    settings = SimpleNamespace(
        redact_extra_patterns=[r"ACME-[0-9]{6}", r"customer=(\w+)"], redact_literals=["internal-hostname-42", "ab"]
    )
    redactor = Redactor.from_settings(settings)
    out = redactor.redact_text("ticket ACME-123456 on internal-hostname-42 for customer=globex (ab)")
    assert out == "ticket [REDACTED:custom] on [REDACTED:custom] for customer=[REDACTED:custom] (ab)"
    encoded = base64.b64encode(b"internal-hostname-42").decode()
    assert "internal-hostname-42" not in redactor.redact_text(quote("x internal-hostname-42 y"))
    assert encoded.rstrip("=") not in redactor.redact_text(f"blob {encoded}")


def test_bad_operator_pattern_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="REDACT_EXTRA_PATTERNS"):
        Redactor(extra_patterns=["(unclosed"])


def test_hostile_input_never_crashes() -> None:
    redactor = Redactor()
    for text in [
        "",
        "\n\n",
        "\x00\x1b[31mpassword=\x1b[0m",
        "İ" * 50 + " token=" + "x" * 40,
        "=" * 10000,
        "-----BEGIN PRIVATE KEY-----",
        "a" * 300000,
        "password=" + "\\" * 5000,
    ]:
        assert isinstance(redactor.redact_text(text), str)
        assert isinstance(redactor.redact_line(text), str)


def test_entropy_and_randomness_helpers() -> None:
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == 2.0
    assert looks_random(GENERATORS["hexsecret"]())
    assert not looks_random("linux-node-modules-cache")
    assert not looks_random("1.2.3")


def test_counts_by_kind() -> None:
    redactor = Redactor()
    redactor.redact_text(f"A={GENERATORS['glpat']()} B={GENERATORS['ghp']()} password=hunter22")
    assert redactor.counts == {"gitlab-token": 1, "github-token": 1, "password": 1}


@pytest.mark.skipif(not SHARED.is_dir(), reason="LogChunks data set not present at ../shared")
def test_real_ci_logs_are_almost_untouched() -> None:
    """Real failed CI logs: lines changed are few (the ones changed hold URL passwords, signed URLs, keys)."""
    total = changed = 0
    for path in sorted(SHARED.glob("logs/*/*/failed/*.log"))[:150]:
        redactor = Redactor()
        for line in path.read_text(errors="replace").replace("\r", "\n").split("\n"):
            total += 1
            changed += redactor.redact_line(line) != line
    print(f"\nLogChunks lines changed by redaction: {changed}/{total} ({changed / total:.4%})")
    assert changed / total < 0.001


def test_a_fresh_redactor_shares_the_rules_but_not_what_a_text_taught() -> None:
    """The webhook door asks for one per delivery: it must redact as a new one does, and learn on its own."""
    secret = "Zq8v1Lr2Xw9Tn4Ys7Bk3Pm6Hd5Jc0Gf2Rt8Uw1Nx"
    shared = Redactor(["ACME-[0-9]{6}"], ["internal-hostname-42"])
    shared.redact_text(f"export AWS_SECRET_ACCESS_KEY={secret}\n")
    assert shared.known_secrets == 1
    fresh = shared.fresh()
    assert fresh.known_secrets == 0
    plain = Redactor()  # no operator patterns, which make every text worth a look
    plain.redact_text(f"export AWS_SECRET_ACCESS_KEY={secret}\n")
    assert plain.might_change(f"cache hit {secret}") and not plain.fresh().might_change(f"cache hit {secret}")
    sample = "ACME-123456 on internal-hostname-42\nexport DB_PASSWORD=hunter2-but-longer\ntoken: ghp_" + "a1" * 18
    assert fresh.redact_text(sample) == Redactor(["ACME-[0-9]{6}"], ["internal-hostname-42"]).redact_text(sample)
    fresh.redact_text("export OTHER_TOKEN=Hn3Kd8Wq1Vb6Tz4Rm9Pc2Xs7Lf5Gj0Ya\n")
    assert fresh.known_secrets >= 1 and shared.known_secrets == 1, "what fresh learns stays its own"
    assert fresh.redact_known(secret) == secret, "fresh was not taught the shared redactor's secret"
    assert shared.redact_known(secret) != secret


_TEXT_PIECES = st.sampled_from(
    ["token", "TOKEN=", "pass", "İ", "ß", "key", "ghp_", "secret", "\n", "@", ":", "password: ", "ﬃ", "ǅ", "x", "\x00"]
)


@given(st.lists(st.lists(_TEXT_PIECES | st.text(max_size=6)).map("".join), max_size=12))
@settings(max_examples=300, deadline=None)
def test_changeable_names_exactly_the_texts_might_change_passes(texts: list[str]) -> None:
    """The door checks a delivery's texts in one pass; it must pick the same ones as a check of each would,
    with letters whose lower case is longer (İ) shifting nothing, and after a secret was learnt."""
    redactor = Redactor()
    expected = [i for i, text in enumerate(texts) if redactor.might_change(text)]
    assert redactor.changeable(texts) == expected
    assert redactor.changeable(texts) == expected, "the texts it passed over before are remembered, not misread"
    assert redactor.fresh().changeable([*texts, "token"]) == [*expected, len(texts)], "a fresh copy shares them"
    redactor.redact_text("export DEPLOY_TOKEN=Hn3Kd8Wq1Vb6Tz4Rm9Pc2Xs7Lf5Gj0Ya\n")
    learnt = [*texts, "cache key Hn3Kd8Wq1Vb6Tz4Rm9Pc2Xs7Lf5Gj0Ya"]
    assert redactor.changeable(learnt) == [i for i, text in enumerate(learnt) if redactor.might_change(text)]
    assert redactor.changeable(learnt)[-1] == len(learnt) - 1
    with_extra = Redactor(["ACME-[0-9]{6}"])
    assert with_extra.changeable(texts) == list(range(len(texts)))


def test_a_text_passed_over_before_is_looked_at_again_once_a_secret_is_learnt() -> None:
    """The door remembers texts with nothing to redact; a secret learnt from a commit message must still be
    found where it is repeated in such a text (the branch name), never skipped because it was clean before."""
    secret = "Hn3Kd8Wq1Vb6Tz4Rm9Pc2Xs7Lf5Gj0Ya"
    shared = Redactor()
    branch = f"fix/{secret}"
    assert shared.changeable(["Public API", branch]) == [], "clean under the standard rules: remembered"
    payload = {"commit": {"message": f"export DEPLOY_TOKEN={secret}\n"}, "ref": branch, "project": "Public API"}
    out = redact_payload(payload, (r := shared.fresh()).redact_text, r.changeable)
    assert secret not in str(out) and out["project"] == "Public API"


def test_the_texts_remembered_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr("bot.core.redact.CLEAN_TEXTS_KEPT", 100)
    redactor = Redactor()
    for batch in range(5):
        assert redactor.changeable([f"text {batch} {n}" for n in range(60)]) == []
        assert len(redactor._clean) <= 100
    assert redactor.changeable(["x" * 300]) == [] and "x" * 300 not in redactor._clean, "long texts are not kept"


_SECRET = "Hn3Kd8Wq1Vb6Tz4Rm9Pc2Xs7Lf5Gj0Ya"
_PAYLOAD_TEXTS = st.lists(
    st.sampled_from(
        [
            f"export DEPLOY_TOKEN={_SECRET}\n",
            _SECRET,
            f"fix/{_SECRET[:20]}",
            "alice@example.com",
            "git@gitlab.example.com:acme/api.git",
            "Retry login on 503",
            "ci_must_pass",
            "password: hunter2-but-longer",
            "ghp_" + "a1" * 18,
            "Public API",
        ]
    )
    | _TEXT_PIECES,
    min_size=1,
    max_size=6,
)


@given(st.lists(_PAYLOAD_TEXTS, min_size=1, max_size=4))
@settings(max_examples=200, deadline=None)
def test_what_the_door_remembers_changes_no_redaction(deliveries: list[list[str]]) -> None:
    """Deliveries redacted one after another by fresh copies of one redactor (which remember the texts with
    nothing to redact) come out exactly as each would from a redactor that never saw another delivery."""
    shared = Redactor()
    for texts in [*deliveries, *deliveries]:
        payload = {"texts": texts, "commit": {"message": texts[-1], "title": texts[0]}}
        mine = shared.fresh()
        new = Redactor()
        assert redact_payload(payload, mine.redact_text, mine.changeable) == redact_payload(
            payload, new.redact_text, new.changeable
        )
        assert [shared.fresh().redact_text(text) for text in texts] == [Redactor().redact_text(t) for t in texts]


def test_every_planted_secret_is_also_gone_in_its_encoded_reprints() -> None:
    """Each planted line, then the secret re-printed later in the same log: `echo $X | base64`, bare base64,
    URL-encoded, hex and in clear. Once a rule has found a secret, every form of it goes."""
    left = []
    for kind, secret, line in PLANTED:
        if kind in REPRINT_EXEMPT:
            continue
        forms = encoded(secret)
        log = [line, "$ echo $SECRET | base64", forms["base64"], f"+ base64 <<< x: {forms['base64-bare']}"]
        log += [f"GET /hook?v={forms['url']}", forms["hex"], f"ERROR: refused {secret}"]
        redactor = Redactor()  # one log per row: a redactor remembers at most 64 secrets
        out = "\n".join(redactor.redact_line(part) for part in log)
        left += [f"{kind}: {form}" for form in survivors(out, [secret])]
    assert left == []


def test_a_line_repeating_one_word_looks_up_its_overlapping_words_once_not_once_per_repeat() -> None:
    # A hostile log line of 60,000 "-storepass " searched the whole line once per repeat (minutes of CPU in the
    # analysis job); the lookups are counted here, not timed.
    redactor = Redactor()
    looked_up: list[str] = []

    class Counting(dict):
        def get(self, key, default=None):
            looked_up.append(key)
            return super().get(key, default)

    redactor._overlaps = Counting(redactor._overlaps)
    out = redactor.redact_text("-storepass " * 1999 + "hunter2hunter2")
    assert len(looked_up) <= 3, looked_up[:10]
    assert "hunter2hunter2" not in out


def test_a_huge_line_of_secret_names_is_still_streamed_in_pieces() -> None:
    # Every space of the line follows a secret-looking name, so no cut is "safe": the stream used to walk the whole
    # line back on every chunk and hold all of it. It now cuts after a bounded search and its buffer stays bounded.
    stream = StreamRedactor(Redactor())
    line, chunk, emitted = "-storepass " * 60_000, 64 * 1024, 0
    for i in range(0, len(line), chunk):
        emitted += len(stream.feed(line[i : i + chunk]))
        assert len(stream._pending) <= MAX_PENDING_CHARS + chunk
    assert emitted > 0
    assert len(stream.flush()) > 0


def test_no_rule_searches_an_unbounded_span_between_a_command_and_its_flag() -> None:
    # `\bmysql\b[^|;&]*?\s-p...` on a line repeating "mysql " searched to the end of the line from every occurrence:
    # quadratic time on a hostile line. Spans between a tool's name and its flag are bounded ({0,400}?); a lazy
    # span may stay unbounded only where the match always ends at the line's end (one match per line).
    from bot.core.redact_rules import HEADER_RULES, TOKEN_RULES

    unbounded = re.compile(r"(?<!\\)[*+]\?")
    for rule in HEADER_RULES + TOKEN_RULES:
        pattern = rule.pattern.pattern
        if unbounded.search(pattern):
            assert pattern.rstrip(")").endswith("$"), pattern


def test_rules_run_in_the_same_order_whatever_the_string_hashing() -> None:
    # The rules a line needs were ordered by iterating a set of trigger words, which depends on PYTHONHASHSEED: in
    # about half the seeds curl's `-u user:pass` rule ran after lftp's and garbled its placeholder.
    import os
    import subprocess
    import sys

    code = (
        "from bot.core.redact import Redactor; r = Redactor(); "
        "print(r.redact_text('$ lftp -u deploy,S3cretPw1 sftp://host')); "
        "print(r.redact_text('$ mysql -uroot -pS3cretPw2 app'))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
        ).stdout
        for seed in range(8)
    }
    assert len(outputs) == 1, outputs
    assert outputs.pop().splitlines() == [
        "$ lftp -u deploy,[REDACTED:password] sftp://host",
        "$ mysql -uroot -p[REDACTED:password] app",
    ]


def test_a_yaml_block_ends_at_its_keys_column_and_only_value_blocks_follow_a_name() -> None:
    text = "\n".join(
        [
            "- password: |",
            "    S3cretPw1xyz",
            "  user: admin",
            "- name: API_TOKEN",
            "  run: |",
            "    make deploy",
            "tls_secret: |",
            *[f"  line{i:02d}AbCdEfGhIjKlMnOp" for i in range(80)],
            "export DB_PASSWORD=S3cretPw2xyzQ",
            "echo UzNjcmV0UHcyeHl6UQ==",
        ]
    )
    out = Redactor().redact_text(text)
    assert "S3cretPw1xyz" not in out and "  user: admin" in out, out
    assert "    make deploy" in out, "a run: block after - name: is not the named value"
    assert "line79" not in out and "UzNjcmV0UHcyeHl6UQ==" not in out, "a long block does not push out later secrets"


def test_a_password_echoed_twice_into_passwd_is_redacted_both_times() -> None:
    # `echo -e 'X\nX' | passwd user` as set -x prints it: the backslash-n is two characters on one line
    line = "+ echo -e 'Hx7!pQ2zR9wK\\nHx7!pQ2zR9wK' | passwd deploy"
    out = Redactor().redact_text(line)
    assert "Hx7!pQ2zR9wK" not in out and out.count("[REDACTED:password]") == 2
    # two different words are not a password and its confirmation
    assert Redactor().redact_text("$ echo -e 'changeme\\nother' | passwd deploy").count("changeme") == 1


def test_the_pre_filter_looks_only_for_the_words_that_hold_no_other() -> None:
    from bot.core.redact_forms import innermost_words

    assert innermost_words({"sig", "signtool", "key", "api-key", "-token", "token", "k8s"}) == {
        "sig",
        "key",
        "token",
        "k8s",
    }
    redactor = Redactor()
    assert redactor._prefilter_words < redactor._triggers
    assert all(any(inner in word for inner in redactor._prefilter_words) for word in redactor._triggers)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(sorted(Redactor()._triggers)) | st.text(alphabet="abcgiklpstx-_ :=/", max_size=12), max_size=6
    )
)
def test_the_innermost_words_pass_exactly_the_lines_all_the_words_pass(parts: list[str]) -> None:
    """A line holding a word holds an innermost word inside it: the smaller pre-filter passes the same lines."""
    from bot.core.redact_forms import anchored_regex

    redactor = Redactor()
    every_word = re.compile(anchored_regex(redactor._triggers, redactor._anchors))
    line = " ".join(parts).lower()
    assert bool(redactor._prefilter.search(line)) == bool(every_word.search(line))
