"""The MR note and the Slack messages: what people see, and that hostile content stays inert.

Run `python -m tests.unit.test_render` to rewrite examples/mr-note.md from example_report().
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from bot.core import messages as m
from bot.core.render.mr_note import (
    NOTE_MARKER_PREFIX,
    find_marker,
    group_jobs,
    note_marker,
    render_fixed_note,
    render_mr_note,
)
from bot.core.render.sanitize import WJ
from bot.core.render.slack import (
    ACTION_FEEDBACK_DOWN,
    ACTION_FEEDBACK_UP,
    ACTION_REANALYZE,
    ACTION_REANALYZE_WITH_PREFIX,
    BLOCKS_PER_MESSAGE,
    BUTTON_TEXT_CHARS,
    BUTTON_VALUE_CHARS,
    HEADER_CHARS,
    SECTION_CHARS,
    THREAD_MESSAGES_MAX,
    render_slack_analysis,
    render_slack_ephemeral,
    render_slack_parent,
    render_slack_reply,
)
from bot.core.types import (
    Evidence,
    JobReport,
    Verdict,
)
from tests.helpers import ROOT
from tests.scenario import BASE, example_report, hostile_report, outside_code, result

EXAMPLE = ROOT / "examples" / "mr-note.md"
# GitLab's extractor pattern for a quick action at a line start (after it deletes "\r").
QUICK_ACTION = re.compile(r"^/(?P<cmd>[a-z0-9_]+)(?:[ ][^\n]*)?(?:\s*\n|$)", re.I | re.M)


# --- marker --------------------------------------------------------------------------


def test_note_starts_with_marker_that_find_marker_reads_back():
    body = render_mr_note(example_report(), BASE)
    assert body.startswith(f"{NOTE_MARKER_PREFIX} project=shop/backend mr=87 -->\n")
    assert find_marker(body) == {"version": 1, "project": "shop/backend", "mr": 87}


def test_marker_round_trips_odd_project_and_no_mr():
    marker = note_marker("group with space/a-->b", None)
    assert "-->" not in marker[len(NOTE_MARKER_PREFIX) : -3]
    assert find_marker(marker + "\nbody") == {"version": 1, "project": "group with space/a-->b", "mr": None}
    assert find_marker(note_marker(42, 7)) == {"version": 1, "project": "42", "mr": 7}


@pytest.mark.parametrize("body", ["", "hello", None, "text\n<!-- cicd-bot:mr-note v1 project=a mr=1 -->"])
def test_find_marker_only_at_start(body):
    assert find_marker(body) is None


def test_log_text_cannot_forge_the_marker():
    forged = "<!-- cicd-bot:mr-note v1 project=victim/repo mr=1 -->"
    report = hostile_report(forged)
    body = render_mr_note(report, BASE)
    assert body.count("cicd-bot:mr-note") == 1
    assert find_marker(body)["project"] == "shop/backend"


# --- content -----------------------------------------------------------------------


def test_header_links_pipeline_and_names_ref_mr_and_author():
    body = render_mr_note(example_report(), BASE)
    assert "### " + m.HEADING_FAILED.format(pipeline=f"[#4521]({BASE}/shop/backend/-/pipelines/4521)") in body
    assert "`feature/discounts`" in body
    assert f"[!87]({BASE}/shop/backend/-/merge_requests/87) Apply volume discounts at checkout" in body
    assert m.BY_AUTHOR.format(author="dana") in body
    assert "`3f9c2a17`" in body


def test_one_verdict_line_per_failure_and_same_failures_said_once():
    body = render_mr_note(example_report(), BASE)
    lines = [line for line in body.splitlines() if line.startswith("- ")]
    assert len(lines) == 2, lines
    first, second = lines
    assert f"[**pytest 1/3**]({BASE}/shop/backend/-/jobs/9001)" in first
    assert m.verdict_label(Verdict.caused_by_change) in first and "caused by this change" in first
    assert m.ALSO_FAILED.format(jobs="pytest 2/3") in first
    assert f"[log L812]({BASE}/shop/backend/-/jobs/9001#L812)" in first
    assert "docker-build" in second and "infrastructure, retry" in second and "network" in second
    assert body.count("#### pytest 2/3") == 0 and body.count("#### pytest 1/3") == 1


def test_verdict_labels_read_as_people_say_them():
    assert m.verdict_label(Verdict.flaky) == "flaky, retry"
    assert m.verdict_label(Verdict.broken_on_default_branch, "main") == "already broken on main"
    assert m.verdict_label("nonsense") == "cause unclear"


def test_root_cause_and_fix_are_collapsible_and_evidence_is_numbered_in_a_closed_fence():
    body = render_mr_note(example_report(), BASE)
    assert f"<summary>{m.HEADING_ROOT_CAUSE} (confidence 82%)</summary>" in body
    assert "1. Round after summing in `orders/pricing.py`." in body
    assert f"<summary>{m.HEADING_EVIDENCE.format(first=810, last=812)}</summary>" in body
    block = re.search(r"^```text\n(.*?)\n```$", body, re.S | re.M)
    assert block, body
    assert block.group(1).splitlines() == [
        "810:     def test_discount_total(order):",
        "812: E       assert Decimal('19.99') == Decimal('20.00')",
    ]
    assert body.count("<details>") == body.count("</details>") == 4


def test_seen_before_links_first_pipeline_and_default_branch():
    body = render_mr_note(example_report(), BASE)
    line = next(x for x in body.splitlines() if x.startswith("🔁"))
    assert line.startswith("🔁 Seen 2 times before")
    assert f"first in pipeline [#4398]({BASE}/shop/backend/-/pipelines/4398)" in line
    assert f"also on the default branch (`main`) in pipeline [#4410]({BASE}/shop/backend/-/pipelines/4410)" in line


def test_allowed_to_fail_mentioned_briefly_and_not_as_a_failure():
    body = render_mr_note(example_report(), BASE)
    assert m.ALLOWED_TO_FAIL.format(jobs=f"[docs-linkcheck]({BASE}/shop/backend/-/jobs/9005)") in body
    assert "#### docs-linkcheck" not in body


def test_footer_shows_provider_model_tokens_cost_and_how_to_ask_again():
    body = render_mr_note(example_report(), BASE)
    assert "Analysed by OpenAI, offline rules · gpt-4o-mini · 2,140 tokens in / 312 out · $0.0005" in body
    for command in ("@cicd-bot reanalyze", "@cicd-bot reanalyze with anthropic", "@cicd-bot explain <job>"):
        assert f"`{command}`" in body
    # the bot's own name appears only inside code spans, so GitLab pings nobody
    outside_code = re.sub(r"`[^`]*`", "", body)
    assert "@cicd-bot" not in outside_code


def test_error_is_said_plainly():
    body = render_mr_note(example_report(error="OpenAI timed out 3 times; Anthropic key rejected"), BASE)
    assert m.HEADING_ERROR.format(pipeline=f"[#4521]({BASE}/shop/backend/-/pipelines/4521)") in body
    assert m.ANALYSIS_FAILED.format(reason="OpenAI timed out 3 times; Anthropic key rejected") in body


def test_analysing_state_lists_jobs_without_verdicts():
    report = example_report(status="analysing")
    for job in report.jobs:
        job.result = None
    body = render_mr_note(report, BASE)
    assert m.ANALYSING in body and "🔎 [**pytest 1/3**]" in body and m.ANALYSING_JOB in body
    assert "<details>" not in body


def test_fixed_note_keeps_what_failed():
    report = example_report()
    body = render_fixed_note(report, 4530, f"{BASE}/shop/backend/-/pipelines/4530", BASE)
    assert find_marker(body) == {"version": 1, "project": "shop/backend", "mr": 87}
    assert "### ✅ Fixed in pipeline [#4530](https://gitlab.example.com/shop/backend/-/pipelines/4530)" in body
    assert "~~pytest 1/3~~" in body and "3 assertions in tests/test_orders.py fail" in body
    assert "docs-linkcheck" not in body
    via_report = render_mr_note(
        example_report(fixed_in_pipeline_id=4530, fixed_in_url=f"{BASE}/shop/backend/-/pipelines/4530"), BASE
    )
    assert via_report == body


def test_links_to_other_hosts_are_not_made():
    report = example_report(pipeline_url="https://evil.example/p/1", mr_url="javascript:alert(1)")
    report.jobs[0].web_url = "https://gitlab.example.com.evil.example/x"
    body = render_mr_note(report, BASE)
    assert "](https://evil" not in body and "](javascript" not in body and "evil.example/x" not in body
    # unlinked pipeline/MR numbers are not turned into issue/MR references
    assert f"#{WJ}4521" in body and f"!{WJ}87" in body


def test_group_jobs_by_signature_and_shared_with():
    report = example_report()
    groups, allowed = group_jobs(report.jobs)
    assert [(g.job.name, g.also) for g in groups] == [("pytest 1/3", ["pytest 2/3"]), ("docker-build", [])]
    assert [j.name for j in allowed] == ["docs-linkcheck"]


# --- limits and hostile content ----------------------------------------------------------------


def test_long_note_is_shortened_with_marker_and_stays_valid():
    jobs = []
    for i in range(60):
        r = result(root_cause="x " * 3000, evidence=[Evidence(line=n, text="y" * 300) for n in range(1, 40)])
        jobs.append(
            JobReport(
                job_id=i, name=f"job-{i}", stage="test", web_url=f"{BASE}/g/p/-/jobs/{i}", result=r, signature=f"s{i}"
            )
        )
    body = render_mr_note(example_report(jobs=jobs), BASE, max_chars=20_000)
    assert len(body) <= 20_000
    assert m.NOTE_SHORTENED in body
    assert body.count("<details>") == body.count("</details>")
    assert len(re.findall(r"^```", body, re.M)) % 2 == 0
    assert "`@cicd-bot reanalyze`" in body  # how to ask again survives the cut


def test_backtick_runs_in_evidence_cannot_close_the_fence():
    report = example_report()
    report.jobs[0].result = result(
        evidence=[Evidence(line=3, text="```` done\n/merge"), Evidence(line=4, text="`````")]
    )
    body = render_mr_note(report, BASE)
    assert "\n``````text\n" in body
    assert re.search(r"^3: ```` done /merge$", body, re.M)


@pytest.mark.parametrize(
    "text",
    [
        "/merge",
        "ok\n/approve\n/close",
        "\r\n/label ~x",
        "  /assign @dana",
        "```\n/merge\n```",
        "<details>\n/merge\n</details>",
        "@all please look",
        "<!channel> @here",
        "<img src=https://evil.example/x.png>",
        "![t](https://evil.example/t.png)",
        "[click](https://evil.example/login)",
        "see https://evil.example/a",
        ">>>\n/unapprove\n>>>",
    ],
)
def test_hostile_fields_are_inert_in_the_note(text):
    body = render_mr_note(hostile_report(text), BASE)
    assert not QUICK_ACTION.findall(body.replace("\r", ""))
    assert not re.search(r"@(all|here)\b", body, re.I)
    # code shows text literally, so only what is outside code can link, embed or act as HTML
    prose = outside_code(body)
    assert "https://evil.example" not in prose and "<img" not in prose and "<details>\n/" not in prose


# --- Slack ----------------------------------------------------------------------------


def all_texts(blocks: list[dict]) -> list[str]:
    out = []
    for block in blocks:
        for key in ("text",):
            if isinstance(block.get(key), dict):
                out.append(block[key]["text"])
        for el in block.get("elements", []) + block.get("fields", []):
            if isinstance(el, dict) and isinstance(el.get("text"), (str, dict)):
                out.append(el["text"]["text"] if isinstance(el["text"], dict) else el["text"])
    return out


def check_limits(blocks: list[dict]) -> None:
    assert len(blocks) <= BLOCKS_PER_MESSAGE
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= HEADER_CHARS
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_CHARS
        for el in block.get("elements", []):
            if el.get("type") == "button":
                assert len(el["text"]["text"]) <= BUTTON_TEXT_CHARS
                assert len(el["value"]) <= BUTTON_VALUE_CHARS
        ids = [el.get("action_id") for el in block.get("elements", []) if el.get("action_id")]
        assert len(ids) == len(set(ids))


def test_slack_parent_done_state():
    text, blocks = render_slack_parent(example_report())
    check_limits(blocks)
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"] == "❌ Pipeline #4521 failed"
    joined = "\n".join(all_texts(blocks))
    assert "*shop/backend*" in joined and "`feature/discounts`" in joined
    assert f"<{BASE}/shop/backend/-/merge_requests/87|!87 Apply volume discounts at checkout>" in joined
    assert "pytest 1/3" in joined and "caused by this change" in joined and "also: pytest 2/3" in joined
    assert "docker-build" in joined and "infrastructure, retry" in joined
    assert "Pipeline #4521" in text and "shop/backend" in text


def test_slack_parent_analysing_and_fixed_states():
    report = example_report(status="analysing")
    for job in report.jobs:
        job.result = None
    _, blocks = render_slack_parent(report)
    joined = "\n".join(all_texts(blocks))
    assert blocks[0]["text"]["text"] == m.HEADING_ANALYSING.format(pipeline="#4521")
    assert m.ANALYSING_JOB in joined
    _, blocks = render_slack_parent(
        example_report(fixed_in_pipeline_id=4530, fixed_in_url=f"{BASE}/shop/backend/-/pipelines/4530")
    )
    assert blocks[0]["text"]["text"] == m.FIXED_IN.format(pipeline="#4530")


def test_slack_analysis_details_and_buttons():
    messages = render_slack_analysis(example_report(), ["anthropic", "heuristic"])
    assert messages
    all_blocks = [b for _, blocks in messages for b in blocks]
    for _, blocks in messages:
        check_limits(blocks)
    joined = "\n".join(all_texts(all_blocks))
    assert "apply_discount()" in joined and "Round after summing" in joined
    assert f"<{BASE}/shop/backend/-/jobs/9001#L812|L812>" in joined
    assert "```" in joined and "810:     def test_discount_total(order):" in joined
    assert "gpt-4o-mini" in joined and "2,140" in joined
    buttons = [el for b in all_blocks if b["type"] == "actions" for el in b["elements"]]
    ids = [b["action_id"] for b in buttons]
    assert ACTION_REANALYZE in ids and ACTION_FEEDBACK_UP in ids and ACTION_FEEDBACK_DOWN in ids
    assert ACTION_REANALYZE_WITH_PREFIX + "anthropic" in ids
    value = json.loads(
        next(b for b in buttons if b["action_id"] == ACTION_REANALYZE_WITH_PREFIX + "anthropic")["value"]
    )
    assert value == {"analysis_id": 311, "project": "shop/backend", "pipeline": 4521, "provider": "anthropic"}
    labels = [b["text"]["text"] for b in buttons]
    assert m.BUTTON_REANALYZE in labels and m.BUTTON_REANALYZE_WITH.format(provider="Anthropic") in labels


def test_slack_analysis_splits_long_content_within_limits():
    jobs = [
        JobReport(
            job_id=i,
            name=f"job-{i}",
            stage="test",
            web_url=f"{BASE}/g/p/-/jobs/{i}",
            signature=f"s{i}",
            result=result(root_cause="word " * 2000, evidence=[Evidence(line=n, text="z" * 200) for n in range(1, 40)]),
        )
        for i in range(12)
    ]
    messages = render_slack_analysis(example_report(jobs=jobs), ["anthropic"])
    assert len(messages) > 1
    for text, blocks in messages:
        check_limits(blocks)
        assert text
    joined = "\n".join(t for _, blocks in messages for t in all_texts(blocks))
    assert joined.count("```") % 2 == 0
    assert all(f"job-{i}" in joined for i in range(12))


def test_slack_thread_is_capped_and_says_how_many_jobs_are_left_out():
    jobs = [
        JobReport(
            job_id=i,
            name=f"job-{i}",
            stage="test",
            web_url=f"{BASE}/g/p/-/jobs/{i}",
            signature=f"s{i}",
            result=result(root_cause="word " * 2000, evidence=[Evidence(line=n, text="z" * 200) for n in range(1, 40)]),
        )
        for i in range(60)
    ]
    messages = render_slack_analysis(example_report(jobs=jobs), ["anthropic"])
    assert len(messages) <= THREAD_MESSAGES_MAX + 1
    for _, blocks in messages:
        check_limits(blocks)
    texts = [t for _, blocks in messages for t in all_texts(blocks)]
    assert any(re.fullmatch(m.MORE_JOBS.format(count=r"\d+"), t) for t in texts)
    assert messages[-1][1][-1]["type"] == "actions"


@pytest.mark.parametrize(
    "text", ["<!channel> fix", "<@U123ABC> look", "<!here|here>", "<http://evil.example|click>", "@channel now"]
)
def test_slack_hostile_fields_cannot_ping_or_link(text):
    report = hostile_report(text)
    outputs = [render_slack_parent(report), *render_slack_analysis(report, ["anthropic"]), render_slack_reply(text)]
    for fallback, blocks in outputs:
        for t in [fallback, *all_texts(blocks)]:
            assert "<!" not in t and "<@" not in t and "<http://evil" not in t
            assert not re.search(r"@(channel|here|everyone)\b", t)


def test_slack_reply_and_ephemeral():
    text, blocks = render_slack_reply("Run `make test` & check <stdout>")
    assert blocks[0]["text"]["text"] == "Run `make test` &amp; check &lt;stdout&gt;"
    assert "&lt;stdout&gt;" in text
    long_text, long_blocks = render_slack_reply("line\n" * 3000)
    check_limits(long_blocks)
    assert sum(len(b["text"]["text"]) for b in long_blocks if b["type"] == "section") >= 3000
    _, huge = render_slack_reply("x" * 200_000)
    check_limits(huge)
    assert huge[-1]["text"]["text"] == m.TEXT_SHORTENED
    ack = render_slack_ephemeral(m.ACK_FEEDBACK)
    assert ack["response_type"] == "ephemeral" and ack["text"] == m.ACK_FEEDBACK


def test_help_texts_name_the_commands():
    from bot.core.slack_commands import HELP_TEXT

    assert "/cicd explain" in HELP_TEXT and "/cicd status" in HELP_TEXT and "/cicd subscribe" in HELP_TEXT
    gitlab_help = m.help_gitlab("cicd-bot")
    assert "`@cicd-bot reanalyze`" in gitlab_help and "`@cicd-bot explain <job>`" in gitlab_help
    assert not QUICK_ACTION.findall(gitlab_help)


# --- the README example -------------------------------------------------------------------


def write_example() -> str:
    body = render_mr_note(example_report(), BASE)
    EXAMPLE.parent.mkdir(parents=True, exist_ok=True)
    EXAMPLE.write_text(body, encoding="utf-8")
    return body


def test_example_note_is_current():
    assert EXAMPLE.exists(), "run: python -m tests.unit.test_render"
    assert EXAMPLE.read_text(encoding="utf-8") == render_mr_note(example_report(), BASE), (
        "run: python -m tests.unit.test_render"
    )


if __name__ == "__main__":
    sys.stdout.write(write_example())


def test_mr_note_and_slack_parent_point_at_each_other():
    from bot.core.render.mr_note import render_mr_note
    from bot.core.render.slack import render_slack_parent
    from bot.core.types import PipelineReport

    report = PipelineReport(
        project_path="g/p",
        project_web_url="https://gitlab.example.com/g/p",
        pipeline_id=5,
        pipeline_url="https://gitlab.example.com/g/p/-/pipelines/5",
        ref="main",
        sha="a" * 40,
        status="failed",
        mr_iid=3,
        mr_url="https://gitlab.example.com/g/p/-/merge_requests/3",
        slack_permalink="https://acme.slack.com/archives/C0123/p1700000000123456",
        note_url="https://gitlab.example.com/g/p/-/merge_requests/3#note_77",
    )
    assert "(https://acme.slack.com/archives/C0123/p1700000000123456)" in render_mr_note(
        report, "https://gitlab.example.com"
    )
    _, blocks = render_slack_parent(report)
    assert "<https://gitlab.example.com/g/p/-/merge_requests/3#note_77|MR note>" in str(blocks)
    report.slack_permalink = "https://evil.example/archives/x) [y](https://evil.example"
    assert "evil.example" not in render_mr_note(report, "https://gitlab.example.com")
