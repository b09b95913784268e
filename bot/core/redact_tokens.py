"""Token formats with a recognisable prefix or shape, one rule each (pure).

Each rule runs only on a line holding one of its triggers (lower-case fragments). Every trigger is a word of the
pre-filter, which looks at a line only where it finds one of its anchor letters (redact_forms.anchor_letters): a
trigger holding none of the current ones adds one and slows the pre-filter on every line. The anchors are
"% - @ _ c d g h i j k l p x ~" ("_" for sntryu_, fm2_, fo1_, r8_; "~" for Azure AD's "Q~"); keep new triggers to
those, and measure (benchmarks/redact_throughput.py) when one must add another (":" for a bare Telegram token
would stop it at 5% more characters of every line).

A prefix is kept only when ordinary CI log text does not hold it followed by the rest of the shape; a rule whose
prefix is common ("sk_test_" in a test name) also asks for a generated-looking rest (`mixed`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

GITLAB_PREFIXES = (
    "glpat",
    "gloas",
    "gldt",
    "glrt",
    "glrtr",
    "glcbt",
    "glptt",
    "glft",
    "glimt",
    "glagent",
    "glsoat",
    "glffct",
    "glwt",
    "glsat",
)

# Between a key id and its secret: a colon (URL user info), "=", spaces, commas, quotes, pipes (a table).
KEY_PAIR_SEPARATOR = r"(?:[\s:=,;|'\"]|%3[Aa]|\s/(?=\s)){1,6}"  # and " / " (prose: "id / secret")
RANDOM_RUN = re.compile(r"[0-9A-Za-z+/=_\-]{16,}")
# The bech32 alphabet (age keys): no 1, b, i, o.
BECH32 = "[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]"


def shannon_entropy(value: str) -> float:
    """Bits per character of value's own character distribution."""
    if not value:
        return 0.0
    counts = Counter(value)
    size = len(value)
    return -sum(c / size * math.log2(c / size) for c in counts.values())


def mixed(value: str) -> bool:
    """Generated keys mix digits with both letter cases; prose and slugs rarely do."""
    return any(c.isdigit() for c in value) and any(c.isupper() for c in value) and any(c.islower() for c in value)


def both_cases(value: str) -> bool:
    """For keys made of letters only (Hugging Face): both cases, which identifiers in one case never have."""
    return any(c.isupper() for c in value) and any(c.islower() for c in value)


def looks_random(value: str) -> bool:
    """A run that looks generated (a key or token) rather than a word, slug, version or path."""
    for run in RANDOM_RUN.findall(value):
        classes = sum((any(c.islower() for c in run), any(c.isupper() for c in run), any(c.isdigit() for c in run)))
        if classes >= 2 and shannon_entropy(run) >= 3.3:
            return True
    return False


@dataclass(frozen=True)
class TokenRule:
    kind: str
    pattern: re.Pattern[str]
    triggers: tuple[str, ...]  # lower-case fragments; the rule only runs on lines holding one
    group: int = 0  # the part of the match that is the secret
    check: Callable[[str], bool] | None = None
    named: int = 0  # a group holding a variable name that must look secret (0: none)
    # The secrets inside what is replaced, to find again in other forms (a cookie header's values); None: all of it.
    pieces: Callable[[str], list[str]] | None = None
    late: bool = False  # applied after the base64 and percent-encoding rules, not before
    # Any of these must be in the line (as printed) for the pattern to be tried: a cheap test for a rule whose
    # trigger words are common (a secret's name) but whose shape needs a rarer mark (`]=`, `("`).
    needs: tuple[str, ...] = ()
    # With `named`: a weak name (`key`, `auth`) holds a secret only when the value looks generated (code's `("key",
    # "value")`, `cache["key"] = "abc"` are not secrets).
    weak_needs_random: bool = False
    # For a pattern that ignores case: one of these lower-case words must be in the lowered line (an ASCII line: no
    # other character matches an ASCII letter there, so the test is exact) before the pattern is tried.
    needs_lower: tuple[str, ...] = ()


def rule(
    kind: str,
    pattern: str,
    triggers: Iterable[str],
    group: int = 0,
    check: Callable[[str], bool] | None = None,
    flags: int = 0,
    named: int = 0,
    pieces: Callable[[str], list[str]] | None = None,
    late: bool = False,
    needs: Iterable[str] = (),
    weak_needs_random: bool = False,
    needs_lower: Iterable[str] = (),
) -> TokenRule:
    return TokenRule(
        kind,
        re.compile(pattern, flags),
        tuple(triggers),
        group,
        check,
        named,
        pieces,
        late,
        tuple(needs),
        weak_needs_random,
        tuple(needs_lower),
    )


# A value that stands for a secret without being one: a reference ($X, `cmd`, %X, {{ x }}), a null, a mask.
# `@keychain:NAME`, `@env:NAME`: Apple's altool and notarytool read the password from there; `file:/path`: tailscale's
# --authkey and others read it from that file.
# openssl's `-pass env:NAME`/`file:path`/`fd:3`, apksigner's `--ks-pass env:NAME`: where the password is read from.
REFERENCE = re.compile(
    r"^(?:\$|`|%[A-Za-z_]|\{\{|<[^>]*>$|\{[A-Za-z_]\w*\}$|@(?:keychain|env):|file:[/~.]|(?:env|fd|file):\w)"
)
NULLISH = frozenset({"null", "none", "nil", "true", "false", "yes", "no", "undefined", "on", "off", "n/a", "-"})
MASK_CHARS = frozenset("*xX.#-_•")
ALREADY_MASKED = ("[MASKED]", "[REDACTED", "[FILTERED]", "<redacted>", "(redacted)", "[HIDDEN]", "<hidden>")


def is_placeholder(value: str) -> bool:
    if not value or value.lower() in NULLISH:
        return True
    if set(value) <= MASK_CHARS or value.count("*") * 2 >= len(value):
        return True  # also the last characters shown after a mask (aws configure list: ****************YKEY)
    if any(mark in value for mark in ALREADY_MASKED):
        return True
    return bool(REFERENCE.match(value))


def not_masked(value: str) -> bool:
    return not is_placeholder(value)


def generated(value: str) -> bool:
    """A value that was generated, not written: a long random run, or digits with both letter cases (8 or more)."""
    return not_masked(value) and (looks_random(value) or len(value) >= 8 and mixed(value))


# Not the end of a longer run of token characters (a rule's fixed length must be the whole token).
END = r"(?![0-9A-Za-z_\-])"

TOKEN_RULES: tuple[TokenRule, ...] = (
    rule(
        "gitlab-token",
        # After a word's "-" too (a branch "rotate-glpat-..."); the part after the prefix must look generated
        # (a digit or a capital letter), so "update-glpat-expiry-notification-emails" is a branch, not a token.
        r"(?<![0-9A-Za-z])(?:" + "|".join(GITLAB_PREFIXES) + r")-[0-9A-Za-z_\-]{15,}(?:\.[0-9A-Za-z_\-]+)*",
        (p + "-" for p in GITLAB_PREFIXES),
        check=lambda v: any(c.isdigit() or c.isupper() for c in v.split("-", 1)[1]),
    ),
    rule("gitlab-token", r"\bGR1348941[0-9A-Za-z_\-]{20,}", ("gr1348941",)),
    # Slack: bot/user/app/config tokens; a config token "xoxe.xoxp-1-..." is found at its "xoxp-".
    rule("slack-token", r"\bxox[abposre]-[0-9A-Za-z\-]{10,}", ("xox",)),
    rule("slack-token", r"\bxapp-\d-[0-9A-Za-z\-]{10,}", ("xapp-",)),
    rule(
        "slack-webhook",
        r"hooks\.slack\.com/((?:services|workflows|triggers)/[0-9A-Za-z_/\-]+)",
        ("hooks.slack",),
        group=1,
    ),
    # Microsoft Teams' incoming webhook (webhookb2/<group>@<tenant>/IncomingWebhook/<key>/<id>): whoever has the
    # URL can post to the channel; without its key it is refused.
    rule(
        "teams-webhook",
        # The older connector URLs are outlook.office.com/webhook/<group>@<tenant>/IncomingWebhook/<key>/<id>.
        r"(?i)\.office(?:365)?\.com/webhook(?:b2)?/[0-9A-Za-z@\-]{1,100}/IncomingWebhook/([0-9A-Za-z_\-]{20,})",
        ("incomingwebhook/",),
        group=1,
    ),
    # A cloud key id printed with its secret right after it (id:secret@host in a URL, "id secret" in a table):
    # the secret has no prefix of its own, so the id before it is what gives it away. Before the id's own rule.
    rule(
        "aws-secret-key",
        r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}" + KEY_PAIR_SEPARATOR + r"([0-9A-Za-z/+]{40})(?![0-9A-Za-z/+])",
        ("akia", "asia", "abia", "acca"),
        group=1,
        check=lambda v: looks_random(v),
    ),
    rule(
        "cloud-secret-key",
        r"\b(?:LTAI[0-9A-Za-z]{12,20}|AKID[0-9A-Za-z]{32}|GOOG1[0-9A-Z]{20,70})"
        + KEY_PAIR_SEPARATOR
        + r"([0-9A-Za-z/+]{30,40})(?![0-9A-Za-z/+])",
        ("ltai", "akid", "goog1"),
        group=1,
        check=lambda v: looks_random(v),
    ),
    rule("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b", ("akia", "asia", "abia", "acca")),
    rule("gcp-api-key", r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])", ("aiza",)),
    # Google OAuth client secrets: "GOCSPX-" and 28 characters.
    rule("google-oauth-secret", r"\bGOCSPX-[0-9A-Za-z_\-]{24,32}" + END, ("gocspx-",)),
    rule("anthropic-key", r"\bsk-ant-[0-9A-Za-z_\-]{20,}", ("sk-",)),
    rule("openai-key", r"\bsk-(?:proj-|svcacct-|admin-|None-)?[0-9A-Za-z_\-]{20,}", ("sk-",), check=mixed),
    rule("github-token", r"\bgh[pousr]_[0-9A-Za-z]{36,255}\b", ("ghp_", "gho_", "ghs_", "ghu_", "ghr_")),
    rule("github-token", r"\bgithub_pat_[0-9A-Za-z_]{22,255}\b", ("github_pat_",)),
    rule("npm-token", r"\bnpm_[0-9A-Za-z]{36}\b", ("npm_",)),
    rule("pypi-token", r"\bpypi-[0-9A-Za-z_\-]{50,}", ("pypi-",)),
    rule("jwt", r"\beyJ[0-9A-Za-z_\-]{8,}\.eyJ[0-9A-Za-z_\-]{8,}\.[0-9A-Za-z_\-]*", ("eyj",)),
    rule(
        "azure-storage-key",
        r"(?i)\b(?:AccountKey|SharedAccessKey)=([0-9A-Za-z+/]{20,}={0,2})",
        ("accountkey", "sharedaccesskey"),
        group=1,
    ),
    rule("azure-sas", r"(?i)\bSharedAccessSignature=([^\s;\"']+)", ("sharedaccesssignature",), group=1),
    rule("azure-sas", r"[?&]sig=([0-9A-Za-z%+/=]{16,})", ("sig=",), group=1),
    # Azure AD (Entra) client secrets: three characters, a digit, "Q~", then 31-34 more; "~" is rare in logs.
    rule(
        "azure-client-secret",
        r"(?<![\w~.\-])[0-9A-Za-z_~.]{3}\dQ~[0-9A-Za-z_~.\-]{31,34}(?![\w~.\-])",
        ("q~",),
        check=mixed,
    ),
    # Azure DevOps personal access tokens (84 characters, "AZDO" at the 77th).
    rule("azure-devops-token", r"\b[0-9A-Za-z]{76}AZDO[0-9A-Za-z]{4}\b", ("azdo",)),
    # --- payments and messaging ---
    # Stripe secret and restricted keys (live and test); "pk_" keys are publishable, left alone.
    rule(
        "stripe-key",
        r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{24,247}\b",
        ("sk_live_", "sk_test_", "rk_live_", "rk_test_"),
        check=mixed,
    ),
    # Webhook signing secrets (Stripe, Svix and the services built on it).
    rule("webhook-secret", r"\bwhsec_[0-9A-Za-z+/]{24,}={0,2}", ("whsec_",), check=mixed),
    rule("sendgrid-key", r"\bSG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}" + END, ("sg.",)),
    # Mailgun private API keys: "key-" and 32 hex digits ("pubkey-..." is the public one).
    rule("mailgun-key", r"(?<![\w-])key-[0-9a-f]{32}\b", ("key-",)),
    rule("square-token", r"\bsq0(?:atp|csp)-[0-9A-Za-z_\-]{22,43}" + END, ("sq0atp-", "sq0csp-")),
    # Telegram bot tokens: the bot's numeric id, ":", then 35 characters starting with "A"; only on a line naming
    # Telegram (api.telegram.org/bot<token>/, TELEGRAM_...): a bare token has no letter rarer than ":" to anchor on,
    # and ":" as an anchor letter would stop the pre-filter at 5% more places on every line.
    rule("telegram-bot-token", r"(?<![\d:])\d{5,16}:A[0-9A-Za-z_\-]{34}" + END, ("telegram",), check=mixed),
    # In the Bot API's URL (api.telegram.org/bot<id>:<secret>/method) the secret is whatever lies between ":" and "/".
    rule(
        "telegram-bot-token", r"api\.telegram\.org/(?:file/)?bot\d{3,16}:([0-9A-Za-z_\-]{20,})", ("telegram",), group=1
    ),
    rule(
        "discord-webhook",
        # Discord's tokens are 68 characters; a shorter one after this path is a token all the same.
        r"discord(?:app)?\.com/api/webhooks/\d+/([0-9A-Za-z_\-]{20,})",
        ("discord",),
        group=1,
    ),
    # --- AI and data platforms ---
    # Hugging Face user ("hf_") and organisation ("api_org_") tokens: 34 letters.
    rule("huggingface-token", r"\b(?:hf|api_org)_[A-Za-z]{34}" + END, ("hf_", "api_org_"), check=both_cases),
    rule("databricks-token", r"\bdapi[0-9a-f]{32}(?:-\d)?\b", ("dapi",)),
    rule("replicate-token", r"\br8_[0-9A-Za-z]{37}\b", ("r8_",), check=mixed),
    rule("groq-key", r"\bgsk_[0-9A-Za-z]{52}\b", ("gsk_",), check=mixed),
    rule("perplexity-key", r"\bpplx-[0-9A-Za-z]{48}\b", ("pplx-",), check=mixed),
    rule("xai-key", r"\bxai-[0-9A-Za-z]{70,90}\b", ("xai-",), check=mixed),
    # Dynatrace: "dt0c01." then a 24-character id and a 64-character secret, both upper case.
    rule("dynatrace-token", r"\bdt0c01\.[0-9A-Z]{24}\.[0-9A-Z]{64}\b", ("dt0c01.",)),
    # New Relic user ("NRAK-") and insert ("NRII-") keys; a license key is 36 hex digits then "NRAL".
    rule("newrelic-key", r"\bNRAK-[0-9A-Z]{27}\b", ("nrak-",)),
    rule("newrelic-key", r"\bNRII-[0-9A-Za-z_\-]{32}" + END, ("nrii-",)),
    rule("newrelic-key", r"\b[0-9a-f]{36}NRAL\b", ("nral",)),
    # Grafana Cloud API tokens (base64 after "glc_") and service-account tokens ("glsa_", 32, "_", 8 hex).
    rule("grafana-token", r"\bglc_[0-9A-Za-z+/]{32,400}={0,2}", ("glc_",), check=mixed),
    rule("grafana-token", r"\bglsa_[0-9A-Za-z]{32}_[0-9A-Fa-f]{8}\b", ("glsa_",)),
    # Sentry organisation tokens ("sntrys_" then a base64 JSON claim, "_" and the secret) and user tokens.
    rule("sentry-token", r"\bsntrys_eyJ[0-9A-Za-z+/=_\-]{30,}", ("sntrys_eyj",)),
    rule("sentry-token", r"\bsntryu_[0-9a-f]{64}\b", ("sntryu_",)),
    # --- developer and deployment platforms ---
    rule("atlassian-token", r"\bATATT3[0-9A-Za-z_\-=]{150,}", ("atatt3x",)),  # always "ATATT3xFfGF0..."
    rule("linear-key", r"\blin_(?:api|oauth)_[0-9A-Za-z]{40}\b", ("lin_api_", "lin_oauth_")),
    rule("postman-key", r"\bPMAK-[0-9a-f]{24}-[0-9a-f]{34}\b", ("pmak-",)),
    rule("docker-token", r"\bdckr_(?:pat|oat)_[0-9A-Za-z_\-]{27,}", ("dckr_pat_", "dckr_oat_")),
    rule("digitalocean-token", r"\bdo[por]_v1_[0-9a-f]{64}\b", ("dop_v1_", "doo_v1_", "dor_v1_")),
    rule("shopify-token", r"\bshp(?:at|ca|pa|ss)_[0-9a-fA-F]{32}\b", ("shpat_", "shpca_", "shppa_", "shpss_")),
    # Doppler personal, service (optionally "dp.st.<config>."), service-account, CLI, SCIM and audit tokens.
    rule(
        "doppler-token",
        r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.(?:[0-9A-Za-z_\-]{1,40}\.)?[0-9A-Za-z]{40,44}\b",
        ("dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."),
        check=mixed,
    ),
    # HashiCorp Vault service, batch and recovery tokens (a namespace token ends in ".<namespace id>").
    rule(
        "vault-token",
        r"\bhv[sbr]\.[0-9A-Za-z_\-]{24,}(?:\.[0-9A-Za-z]{4,10})?\b",
        ("hvs.", "hvb.", "hvr."),
        check=mixed,
    ),
    # Terraform Cloud / Enterprise API tokens: "<14 characters>.atlasv1.<60-70 characters>".
    rule("terraform-token", r"\b[0-9A-Za-z]{14}\.atlasv1\.[0-9A-Za-z_\-=]{60,}", ("atlasv1.",)),
    rule("pulumi-token", r"\bpul-[0-9a-f]{40}\b", ("pul-",)),
    rule("supabase-token", r"\bsbp_[0-9a-f]{40}\b", ("sbp_",)),
    rule("supabase-token", r"\bsb_secret_[0-9A-Za-z_\-]{20,}", ("sb_secret_",)),
    rule("heroku-key", r"\bHRKU-[0-9A-Za-z_\-]{40,}", ("hrku-",)),
    # Vercel's prefixed tokens (personal, integration, app access, app refresh, API key).
    rule("vercel-token", r"\bvc[pikar]_[0-9A-Za-z]{24,}\b", ("vcp_", "vci_", "vck_", "vca_", "vcr_"), check=mixed),
    # Fly.io macaroons ("FlyV1 fm2_...,fm2_...": each part is found) and the older "fo1_" tokens.
    rule("flyio-token", r"\bfm(?:1[ar]|2)_[0-9A-Za-z+/]{40,}={0,3}", ("fm1a_", "fm1r_", "fm2_"), check=mixed),
    rule("flyio-token", r"\bfo1_[0-9A-Za-z_\-]{43}" + END, ("fo1_",), check=mixed),
    rule("planetscale-token", r"\bpscale_(?:tkn|pw|oauth)_[0-9A-Za-z_.\-]{32,64}", ("pscale_",), check=mixed),
    rule("rubygems-key", r"\brubygems_[0-9a-f]{48}\b", ("rubygems_",)),
    # SonarQube/SonarCloud project, user and global analysis tokens.
    rule("sonar-token", r"\bsq[pua]_[0-9a-f]{40}\b", ("sqp_", "squ_", "sqa_")),
    rule("buildkite-token", r"\bbkua_[0-9a-f]{40}\b", ("bkua_",)),
    rule("prefect-key", r"\bpnu_[0-9A-Za-z]{36}\b", ("pnu_",), check=mixed),
    rule("1password-token", r"\bops_eyJ[0-9A-Za-z_\-=+/]{50,}", ("ops_eyj",)),
    rule("tailscale-key", r"\btskey-[a-z]+-[0-9A-Za-z]{6,}-[0-9A-Za-z]{16,}", ("tskey-",)),
    # JFrog Artifactory API keys ("AKCp") and reference tokens (base64 of "reftkn:01:").
    rule("jfrog-token", r"\bAKCp[0-9A-Za-z]{69}\b", ("akcp",)),
    rule("jfrog-token", r"\bcmVmdGtuOjAxOj[0-9A-Za-z]{40,}", ("cmvmdgtuojaxoj",)),
    rule("mapbox-token", r"\bsk\.eyJ[0-9A-Za-z_\-]{20,}\.[0-9A-Za-z_\-]{20,}", ("sk.eyj",)),
    # --- more vendors' prefixed keys (each prefix as the vendor documents it) ---
    rule("netlify-token", r"\bnfp_[0-9A-Za-z]{36,40}\b", ("nfp_",), check=mixed),
    rule("contentful-token", r"\bCFPAT-[0-9A-Za-z_\-]{43}" + END, ("cfpat-",)),
    rule("figma-token", r"\bfigd_[0-9A-Za-z_\-]{38,}", ("figd_",), check=mixed),
    # Notion integration tokens: "ntn_" now, "secret_" and 43 characters before (mixed: a test's "secret_..." name).
    rule(
        "notion-token",
        r"\b(?:ntn_[0-9A-Za-z]{46}|secret_[0-9A-Za-z]{43})\b",
        ("ntn_", "secret_"),
        check=mixed,
        needs=("ntn_", "secret_"),
    ),
    rule("circleci-token", r"\bCCIPAT_[0-9A-Za-z_]{40,}", ("ccipat_",)),
    # PostHog personal API keys ("phc_" project keys are public, shipped in web pages: left).
    rule("posthog-key", r"\bphx_[0-9A-Za-z]{43}\b", ("phx_",), check=mixed),
    rule("mailersend-token", r"\bmlsn\.[0-9a-f]{64}\b", ("mlsn.",)),
    # HubSpot private app tokens: "pat-", the region, then a UUID.
    rule(
        "hubspot-token",
        r"\bpat-(?:na|eu)\d-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
        ("pat-na", "pat-eu"),
    ),
    rule("brevo-key", r"\bxkeysib-[0-9a-f]{64}-[0-9A-Za-z]{16}\b", ("xkeysib-",)),
    rule("shippo-token", r"\bshippo_(?:live|test)_[0-9a-f]{40}\b", ("shippo_live_", "shippo_test_")),
    rule("flutterwave-key", r"\bFLWSECK(?:_TEST)?-[0-9a-f]{32}-X\b", ("flwseck",)),
    rule("nvidia-key", r"\bnvapi-[0-9A-Za-z_\-]{64}" + END, ("nvapi-",)),
    # `aws eks get-token`'s bearer token for a cluster: a presigned STS URL, base64url, valid 15 minutes.
    rule("eks-token", r"\bk8s-aws-v1\.[0-9A-Za-z_\-]{40,}", ("aws-v1.",)),  # "-v": "-a" is a common flag
    # A Docker config.json in base64 (a Kubernetes secret's `.dockerconfigjson`, `kubectl get secret regcred -o yaml`):
    # `{"auths":` encoded, its registries' user:password inside.
    rule("docker-config", r"\beyJhdXRocyI6[A-Za-z0-9+/]{16,}={0,2}", ("eyjhdxrocyi6",)),
    # age encryption secret keys (bech32, upper case).
    rule("age-secret-key", r"\bAGE-SECRET-KEY-1" + BECH32 + r"{58}\b", ("age-secret-key-1",)),
    # --- CI/CD, code-hosting and developer services' prefixed keys (the prefix and length each documents) ---
    # Harness personal access tokens: "pat.", account id (22), token id (24), secret (20). Its service-account
    # tokens ("sat.") are left: "sat." holds no anchor letter and would add "a", the pre-filter's cost on every line.
    rule("harness-token", r"\bpat\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z]{24}\.[0-9A-Za-z]{20}\b", ("pat.",)),
    # Octopus Deploy API keys: "API-" and 26 upper-case letters or digits (mixed: not "API-DOCUMENTATION-...").
    rule(
        "octopus-key",
        r"\bAPI-[0-9A-Z]{26}\b",
        ("api-",),
        check=lambda v: any(c.isdigit() for c in v[4:]) and any(c.isalpha() for c in v[4:]),
    ),
    rule("infracost-key", r"\bico-[0-9A-Za-z]{32}\b", ("ico-",), check=mixed),
    rule("sourcegraph-token", r"\bsgp_(?:[0-9a-fA-F]{16}_|local_)?[0-9a-fA-F]{40}\b", ("sgp_",)),
    rule("readme-key", r"\brdme_[0-9a-z]{70}\b", ("rdme_",)),
    rule("clojars-token", r"\bCLOJARS_[0-9a-z]{60}\b", ("clojars_",)),
    rule("scalingo-token", r"\btk-us-[0-9A-Za-z_\-]{48}" + END, ("tk-us-",)),
    rule("frameio-token", r"\bfio-u-[0-9A-Za-z_\-=]{64}" + END, ("fio-u-",)),
    rule("typeform-token", r"\btfp_[0-9A-Za-z_\-.=]{40,64}" + END, ("tfp_",), check=mixed),
    # Cloudflare Origin CA keys: "v1.0-", 24 hex, "-", 146 hex.
    rule("cloudflare-key", r"\bv1\.0-[0-9a-f]{24}-[0-9a-f]{146}\b", ("v1.0-",)),
    # A token as a URL's user, without a password (`https://<token>@github.com/…`, as GitHub and others take it); after the vendors'
    # rules, which name the token's kind when they know its format.
    rule(
        "token",
        r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://([0-9A-Za-z_\-]{20,255})@",
        ("@",),
        group=1,
        check=looks_random,
        needs=("://",),
    ),
)
