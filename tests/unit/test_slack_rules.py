"""Pure Slack rules: channel mapping with wildcards, filters, severity and /cicd parsing."""

from __future__ import annotations

import pytest

from bot.core import channel_map as cm
from bot.core import slack_commands as sc
from bot.core.channel_status import ChannelStatus
from bot.core.types import AnalysisResult, Category, JobReport, PipelineReport, Verdict
from bot.providers.catalog import PROVIDERS
from tests.helpers import ROOT

GITLAB = "https://gitlab.example.com"


def rules(*entries: str, subs: tuple[tuple[str, str], ...] = ()) -> list[cm.ChannelRule]:
    parsed, problems = cm.parse_channel_map(entries)
    assert problems == []
    return parsed + cm.subscription_rules(subs)


@pytest.mark.parametrize(
    "pattern,path,expected",
    [
        ("group/*", "group/app", True),
        ("group/*", "group/sub/app", True),  # a group includes its subgroups
        ("group/*", "groupies/app", False),
        ("group/*", "group", False),
        ("group/app", "group/app", True),
        ("group/app", "group/app2", False),
        ("group", "group/sub/deep/app", True),
        ("group/**/app", "group/a/b/app", True),
        ("group/**/app", "group/a/b/other", False),
        ("group/svc-*", "group/svc-payments", True),
        ("group/svc-*", "group/web", False),
        ("Group/App", "group/app", True),  # GitLab paths are case-insensitive
        ("group/a.b", "group/aXb", False),  # dots are literal
    ],
)
def test_pattern_matches(pattern, path, expected):
    assert cm.pattern_matches(cm.normalize_pattern(pattern), path) is expected


@pytest.mark.parametrize("bad", ["", "/", "group/../x", "group//x", "group/a b", "gr<oup>", "a/b**"])
def test_bad_patterns_are_refused_with_a_reason(bad):
    with pytest.raises(cm.ChannelMapError):
        cm.normalize_pattern(bad)


def test_channel_map_entries_skip_bad_ones_and_say_why():
    parsed, problems = cm.parse_channel_map(["group/*=C0AAAA1", "no-equals", "group/x=#general", "a/../b=C0BBBB2"])
    assert parsed == [cm.ChannelRule("group/*", "C0AAAA1")]
    assert len(problems) == 3
    assert "'#general' is not a channel id" in problems[1]


def test_channels_for_uses_settings_and_subscriptions_inside_open_grants():
    r = rules(
        "group/*=C0AAAA1", "group/app=C0BBBB2", "public/*=*", subs=(("C0CCCC3", "public/docs"), ("C0CCCC3", "secret/*"))
    )
    assert cm.channels_for("group/app", r) == ["C0AAAA1", "C0BBBB2"]
    assert cm.channels_for("public/docs", r) == ["C0CCCC3"]
    # a subscription outside any grant gives nothing
    assert cm.channels_for("secret/vault", r) == []
    assert not cm.channel_sees("C0CCCC3", "secret/vault", r)
    assert cm.channel_sees("C0AAAA1", "group/sub/x", r)
    assert not cm.channel_sees("C0AAAA1", "public/docs", r)


def test_a_subscription_is_kept_only_when_it_grants_what_it_says():
    S = cm.Subscription
    r = rules("public/*=*", "group/app=C0BBBB2", "acme/platform/*=*", subs=(("C0ZZZZ9", "acme/platform/api"),))
    check = cm.check_subscription
    assert check("public/docs", r, "C0ZZZZ9") == (S.grants, [])
    assert check("public", r, "C0ZZZZ9") == (S.grants, []), "projects sit below a group: public is public/*"
    assert check("public/svc-*", r, "C0ZZZZ9") == (S.grants, [])
    assert check("secret/*", r, "C0ZZZZ9") == (S.not_allowed, [])
    # the channel's own mapping overlaps, but a subscription only counts inside an open grant: it grants nothing
    assert check("group/*", r, "C0BBBB2") == (S.not_allowed, [])
    assert check("group/app", r, "C0BBBB2") == (S.already, ["group/app"])
    assert check("group/app/sub", r, "C0BBBB2") == (S.already, ["group/app"])
    assert check("acme/platform/api", r, "C0ZZZZ9") == (S.already, ["acme/platform/api"])
    assert check("group/app", r, "C0ZZZZ9") == (S.not_allowed, [])
    # broader than every open grant it touches: it would get less than it says
    assert check("**", r, "C0ZZZZ9") == (S.too_broad, ["public/*", "acme/platform/*"])
    assert check("*/docs", r, "C0ZZZZ9") == (S.too_broad, ["public/*"])
    assert check("acme/*", r, "C0ZZZZ9") == (S.too_broad, ["acme/platform/*"])
    assert check("**", rules("group/app=C0BBBB2"), "C0ZZZZ9") == (S.not_allowed, [])


def test_a_channel_has_scope_from_its_mapping_or_a_granted_subscription():
    r = rules("group/*=C0AAAA1", "public/*=*", subs=(("C0CCCC3", "public/docs"), ("C0DDDD4", "secret/*")))
    assert cm.has_scope("C0AAAA1", r) and cm.has_scope("C0CCCC3", r)
    assert not cm.has_scope("C0DDDD4", r), "a subscription no open grant backs gives nothing"
    assert not cm.has_scope("C0EEEE5", r) and not cm.has_scope("D0DIRECT1", r)


@pytest.mark.parametrize(
    "flt,ref,mr,expected",
    [
        ("all", "feature", None, True),
        ("default", "main", None, True),
        ("default", "feature", 3, False),
        ("default_and_mr", "feature", None, False),
        ("default_and_mr", "refs/merge-requests/3/head", 3, True),
        ("default_and_mr", "main", None, True),
    ],
)
def test_branch_filter(flt, ref, mr, expected):
    assert cm.branch_allowed(flt, ref, "main", mr) is expected


def _report(ref: str, *verdicts: Verdict) -> PipelineReport:
    jobs = [
        JobReport(
            job_id=i,
            name=f"j{i}",
            stage="test",
            result=AnalysisResult(
                summary="s", category=Category.test, root_cause="r", verdict=v, confidence=0.5, fix_steps=[]
            ),
        )
        for i, v in enumerate(verdicts)
    ]
    return PipelineReport(
        project_path="g/a",
        project_web_url=GITLAB + "/g/a",
        pipeline_id=1,
        pipeline_url="",
        ref=ref,
        sha="abc",
        status="failed",
        jobs=jobs,
    )


def test_severity_from_verdicts_and_branch():
    assert cm.report_severity(_report("main"), "main") == "critical"
    assert cm.report_severity(_report("feat"), "main") is None
    assert cm.report_severity(_report("feat", Verdict.flaky, Verdict.infrastructure), "main") == "low"
    assert cm.report_severity(_report("feat", Verdict.flaky, Verdict.unknown), "main") == "medium"
    assert cm.report_severity(_report("feat", Verdict.caused_by_change), "main") == "high"
    assert cm.report_severity(_report("feat", Verdict.broken_on_default_branch), "main") == "critical"
    assert cm.severity_allowed("high", "critical") and cm.severity_allowed("all", None)
    assert not cm.severity_allowed("high", "low") and not cm.severity_allowed("medium", None)
    assert cm.severity_allowed("nonsense", "low")


# --- /cicd parsing ----------------------------------------------------------------------


def parse(text: str) -> sc.Command:
    return sc.parse_command(text, GITLAB, list(PROVIDERS))


def test_explain_reads_every_reference_form():
    assert parse("explain group/app#42").reference.pipeline_id == 42
    c = parse(f"explain <{GITLAB}/group/sub/app/-/jobs/7|job 7>")
    assert (c.reference.kind, c.reference.number, c.reference.project_path) == ("job", 7, "group/sub/app")
    c = parse(f"explain {GITLAB}/group/app/-/merge_requests/5")
    assert c.reference.mr_iid == 5
    c = parse(f"reanalyze {GITLAB}/group/app/-/pipelines/9 with anthropic")
    assert (c.name, c.provider, c.reference.pipeline_id) == ("reanalyze", "anthropic", 9)
    assert parse("reanalyze group/app#9 openai").provider == "openai"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("explain", sc.USAGE["explain"]),
        ("explain #42", sc.NEEDS_PROJECT.format(number=42)),
        ("reanalyze group/app#1 gpt9", "I don't know the provider 'gpt9'"),
        (
            "explain https://evil.example/group/app/-/pipelines/1",
            "I could not read 'https://evil.example/group/app/-/pipelines/1' as a pipeline",
        ),
        ("frobnicate", "I did not understand that. Try `/cicd help`"),
        ("subscribe", sc.USAGE["subscribe"]),
        ("subscribe group/../x", "is not a GitLab group or project name"),
        ("status now", sc.USAGE["status"]),
        ("provider a b", sc.USAGE["provider"]),
        ("x" * 3000, sc.TOO_LONG),
    ],
)
def test_bad_input_gets_one_line_of_usage(text, expected):
    with pytest.raises(sc.UsageError) as err:
        parse(text)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_other_commands():
    assert parse("").name == "help"
    assert parse("provider").action == "show"
    assert parse("provider list").action == "list"
    assert (parse("provider Anthropic").action, parse("provider anthropic").provider) == ("set", "anthropic")
    assert parse("subscribe /Group/*/").path == "group/*"
    assert parse("history").path == "" and parse("history group/app").path == "group/app"
    assert parse("status").name == "status" and parse("link").name == "link"


def test_texts_for_answers():
    c = parse("reanalyze group/app#9 anthropic")
    assert sc.ack_text(c, "group/app") == (
        "Got it: analysing pipeline #9 of group/app again with Anthropic. The answer will appear in this channel."
    )
    rows = [sc.HistoryRow("group/app", 9, "unit", "flaky", "Timeout  talking\nto db")]
    assert sc.format_history(rows, "group") == (
        "*Recent failures in group*\n• group/app #9 · unit · *flaky, retry*: Timeout talking to db"
    )
    assert sc.format_history([], "") == "No analysed failures yet."
    counted = ChannelStatus(queued=2, dead=1, dead_jobs=[(7, "analyze_pipeline")], cost=0.5, calls=3)
    status = sc.format_status(counted, ["openai", "heuristic"], "openai")
    assert status.startswith("*cicd-bot status for the projects of this channel*")
    assert "queue: 2 waiting, 0 running, 1 dead letters" in status
    assert "providers: OpenAI, offline rules (default OpenAI)" in status
    assert "spent today: $0.5000 in 3 model calls" in status
    assert status.endswith("• dead letter 7 (analyze_pipeline)")
    partial = sc.format_status(ChannelStatus(complete=False), ["heuristic"], "heuristic", 5000)
    assert partial.endswith("• counted among the newest 5000 open jobs only")
    assert sc.format_status(None, ["openai"], "openai") == sc.STATUS_NOTHING_MAPPED
    assert "$" not in sc.STATUS_NOTHING_MAPPED and "/cicd subscribe" in sc.STATUS_NOTHING_MAPPED


def test_the_manifest_points_everything_at_one_url_with_the_scopes_the_code_needs():

    text = (ROOT / "config" / "slack-manifest.yml").read_text()
    urls = [
        line.split(":", 1)[1].strip() for line in text.splitlines() if line.strip().startswith(("url:", "request_url:"))
    ]
    assert urls == ["https://YOUR-HOST/slack/events"] * 3
    listed = {line.strip()[2:].split("#")[0].strip() for line in text.splitlines() if line.strip().startswith("- ")}
    assert {
        "command: /cicd",
        "commands",
        "chat:write",
        "chat:write.public",
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "channels:read",
        "groups:read",
        "reactions:write",
        "app_mention",
        "message.channels",
        "message.groups",
    } <= listed
    assert "is_enabled: true" in text
