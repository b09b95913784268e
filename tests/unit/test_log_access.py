"""Why a CI job's log could not be read, and how the note and Slack say so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core import messages as m
from bot.core.log_access import LogProblem, classify, describe
from bot.core.render.mr_note import render_mr_note
from bot.core.render.slack import render_slack_analysis, render_slack_parent
from bot.core.types import JobReport
from tests.scenario import BASE, example_report

NOW = datetime(2024, 5, 14, 9, 0, tzinfo=UTC)
PAST = "2024-05-10T00:00:00.000Z"
FUTURE = "2024-06-10T00:00:00.000Z"
TRACE_ARTIFACT = {"file_type": "trace", "size": 1500, "filename": "job.log", "file_format": None}


@pytest.mark.parametrize(
    "ci_job, status, empty, expected",
    [
        ({}, None, False, None),
        ({"erased_at": None, "artifacts_expire_at": PAST}, None, False, None),  # read: expiry facts do not matter
        ({}, 403, True, LogProblem.permission),
        ({}, 401, True, LogProblem.permission),
        ({}, 302, True, LogProblem.redirected),
        ({}, 307, True, LogProblem.redirected),
        ({}, 404, True, LogProblem.not_found),
        ({}, 410, True, LogProblem.other),
        ({}, None, True, LogProblem.empty),
        # an erased job explains whatever GitLab answers for its log
        ({"erased_at": "2024-05-13T10:00:00.000Z"}, None, True, LogProblem.erased),
        ({"erased_at": "2024-05-13T10:00:00.000Z"}, 404, True, LogProblem.erased),
        ({"erased_at": "2024-05-13T10:00:00.000Z"}, 403, True, LogProblem.erased),
        # expired artifacts explain a missing log only when GitLab no longer lists the log among them
        ({"artifacts_expire_at": PAST, "artifacts": []}, None, True, LogProblem.expired),
        ({"artifacts_expire_at": PAST}, 404, True, LogProblem.expired),
        ({"artifacts_expire_at": PAST, "artifacts": [TRACE_ARTIFACT]}, None, True, LogProblem.empty),
        ({"artifacts_expire_at": FUTURE}, None, True, LogProblem.empty),
        ({"artifacts_expire_at": PAST}, 403, True, LogProblem.permission),
        # facts that are not timestamps are no facts
        ({"erased_at": "yesterday", "artifacts_expire_at": 5}, None, True, LogProblem.empty),
        ({"erased_at": "2024-05-13T10:00:00"}, None, True, LogProblem.erased),  # without a zone: UTC, as GitLab's
    ],
)
def test_the_reason_comes_from_the_status_and_the_job_s_facts(ci_job, status, empty, expected):
    assert classify(ci_job, status=status, empty=empty, now=NOW) == expected


def test_the_reasons_people_read():
    erased = {"erased_at": "2024-05-13T10:00:00.000Z"}
    assert describe(LogProblem.erased, erased) == "erased on 2024-05-13: erasing a job removes its log"
    assert describe(LogProblem.expired, {"artifacts_expire_at": PAST}).startswith(
        "expired: the job's artifacts expired on 2024-05-10"
    )
    assert describe(LogProblem.permission, {}, 403).startswith("permission denied (GitLab answered 403)")
    assert "needs Developer access" in describe(LogProblem.permission, {}, 403)
    assert describe(LogProblem.not_found, {}, 404) == "not found (GitLab answered 404)"
    assert describe(LogProblem.empty, {}) == "empty: GitLab returned no log text for this job"
    assert set(m.LOG_PROBLEMS) == {p.value for p in LogProblem}, "every kind has its text"


def unreadable_report():
    report = example_report()
    report.jobs.insert(
        3,
        JobReport(
            job_id=9003,
            name="lint",
            stage="test",
            web_url=f"{BASE}/shop/backend/-/jobs/9003",
            log_unavailable=describe(LogProblem.permission, {}, 403),
        ),
    )
    return report


def test_the_note_says_log_unavailable_and_why_instead_of_an_answer():
    body = render_mr_note(unreadable_report(), BASE)
    line = next(line for line in body.splitlines() if "**lint**" in line)
    assert line == (
        f"- 📭 [**lint**]({BASE}/shop/backend/-/jobs/9003) · stage `test` · "
        "log unavailable: permission denied (GitLab answered 403): the bot's GitLab user may not read this job's "
        "log; it needs Developer access to the project"
    )
    assert "#### lint" not in body, "no root cause section for a job no model was asked about"


def test_slack_says_log_unavailable_in_the_parent_and_adds_nothing_to_the_thread():
    report = unreadable_report()
    joined = "\n".join(b["text"]["text"] for b in render_slack_parent(report)[1] if b["type"] == "section")
    line = next(line for line in joined.splitlines() if "lint" in line)
    assert line.startswith("• 📭 ") and "log unavailable: permission denied (GitLab answered 403)" in line
    thread = str(render_slack_analysis(report, []))
    assert "lint" not in thread
