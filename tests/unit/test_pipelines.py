"""Pipeline rules checked against recorded GitLab payload shapes."""

from __future__ import annotations

import json

import pytest

from bot.core.pipelines import (
    Reference,
    changed_paths,
    failed_jobs,
    failed_test_cases,
    latest_attempts,
    mr_iid_from_ref,
    parse_pipeline_reference,
    pipeline_job_rows,
    was_flaky,
)
from tests.helpers import DATA

PAYLOADS = DATA / "gitlab"
BASE = "https://gitlab.example.com"


def load(name: str):
    return json.loads((PAYLOADS / name).read_text())


def names(jobs):
    return [j["name"] for j in jobs]


# --- jobs ------------------------------------------------------------------


def test_latest_attempts_keeps_the_retry_not_the_first_failure():
    jobs = load("jobs.json")
    latest = latest_attempts(jobs)
    unit = [j for j in latest if j["name"] == "unit-tests"]
    assert [j["id"] for j in unit] == [70008]
    assert sorted(names(latest)) == sorted(set(names(jobs)))


def test_latest_attempts_falls_back_to_highest_id_without_retried_flag():
    jobs = [
        {"id": 10, "name": "build", "status": "failed"},
        {"id": 12, "name": "build", "status": "success"},
        {"id": 11, "name": "build", "status": "failed"},
    ]
    assert [j["id"] for j in latest_attempts(jobs)] == [12]


def test_latest_attempts_prefers_unmarked_attempt_over_higher_marked_one():
    jobs = [{"id": 20, "name": "t", "retried": True}, {"id": 15, "name": "t"}]
    assert [j["id"] for j in latest_attempts(jobs)] == [15]


def test_latest_attempts_ignores_broken_entries():
    jobs = [None, "x", {"name": "a"}, {"id": "7", "name": "b"}, {"id": 3, "name": 5}, {"id": 4, "name": "c"}]
    assert names(latest_attempts(jobs)) == ["b", "c"]


def test_failed_jobs_separates_allowed_failures_and_ignores_skipped_canceled_manual():
    to_analyse, allowed = failed_jobs(load("jobs.json"))
    assert names(to_analyse) == ["integration-tests"]
    assert names(allowed) == ["lint"]


def test_failed_jobs_can_analyse_allowed_failures_too():
    to_analyse, allowed = failed_jobs(load("jobs.json"), analyze_allowed_failures=True)
    assert sorted(names(to_analyse)) == ["integration-tests", "lint"]
    assert allowed == []


def test_failed_jobs_of_the_hook_builds_match_the_api_listing():
    hook = load("pipeline_hook.json")
    to_analyse, allowed = failed_jobs(hook["builds"])
    assert names(to_analyse) == ["integration-tests"]
    assert names(allowed) == ["lint"]


def test_a_retried_failure_that_passed_is_not_a_failure():
    jobs = [
        {"id": 1, "name": "unit", "status": "failed", "retried": True},
        {"id": 2, "name": "unit", "status": "success"},
    ]
    assert failed_jobs(jobs) == ([], [])


def test_was_flaky_when_the_same_job_passed_on_retry():
    jobs = load("jobs.json")
    assert was_flaky(jobs, "unit-tests") is True
    assert was_flaky(jobs, "integration-tests") is False
    assert was_flaky(jobs, "no-such-job") is False


def test_was_flaky_needs_the_failure_before_the_pass():
    jobs = [{"id": 1, "name": "t", "status": "success"}, {"id": 2, "name": "t", "status": "failed"}]
    assert was_flaky(jobs, "t") is False


def test_pipeline_job_rows_mark_retried_attempts():
    rows = pipeline_job_rows(load("jobs.json"))
    unit = [r for r in rows if r["name"] == "unit-tests"]
    assert {(r["status"], r["retried"]) for r in unit} == {("success", False), ("failed", True)}
    lint = next(r for r in rows if r["name"] == "lint")
    assert lint == {"name": "lint", "stage": "test", "status": "failed", "allow_failure": True, "retried": False}


# --- refs and keys ------------------------------------------------------------


@pytest.mark.parametrize(
    "ref, iid",
    [
        ("refs/merge-requests/17/head", 17),
        ("refs/merge-requests/4/merge", 4),
        ("refs/merge-requests/123/train", 123),
        ("main", None),
        ("refs/merge-requests/17/other", None),
        ("refs/merge-requests/x/head", None),
        ("feature/refs/merge-requests/1/head", None),
        (None, None),
    ],
)
def test_mr_iid_from_ref(ref, iid):
    assert mr_iid_from_ref(ref) == iid


@pytest.mark.parametrize(
    "text, expected",
    [
        ("acme/platform/api#9001", Reference("pipeline", 9001, "acme/platform/api")),
        ("acme/api!17", Reference("merge_request", 17, "acme/api")),
        ("#9001", Reference("pipeline", 9001)),
        ("9001", Reference("pipeline", 9001)),
        (f"{BASE}/acme/platform/api/-/pipelines/9001", Reference("pipeline", 9001, "acme/platform/api")),
        (f"{BASE}/acme/platform/api/-/pipelines/9001/failures", Reference("pipeline", 9001, "acme/platform/api")),
        (f"{BASE}/acme/platform/api/-/jobs/70005", Reference("job", 70005, "acme/platform/api")),
        (f"{BASE}/acme/platform/api/-/merge_requests/17", Reference("merge_request", 17, "acme/platform/api")),
        (
            f"{BASE}/acme/platform/api/-/merge_requests/17/pipelines#note_3",
            Reference("merge_request", 17, "acme/platform/api"),
        ),
        (f"{BASE}/acme/api/pipelines/5", Reference("pipeline", 5, "acme/api")),
        (f"<{BASE}/acme/api/-/jobs/8|job 8>", Reference("job", 8, "acme/api")),
        ("http://GITLAB.example.com/acme/api/-/jobs/8", Reference("job", 8, "acme/api")),
    ],
)
def test_parse_pipeline_reference(text, expected):
    assert parse_pipeline_reference(text, BASE) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://evil.example.net/acme/api/-/pipelines/1",
        "https://gitlab.example.com.evil.net/acme/api/-/pipelines/1",
        "https://user:pw@gitlab.example.com/acme/api/-/pipelines/1",
        f"{BASE}/acme/api/-/issues/3",
        f"{BASE}/acme/-/pipelines/1",
        f"{BASE}/acme/../x/-/pipelines/1",
        "javascript:alert(1)",
        "acme#1",
        "",
        "explain please",
        "x" * 5000,
    ],
)
def test_parse_pipeline_reference_refuses_foreign_or_malformed(text):
    assert parse_pipeline_reference(text, BASE) is None


def test_a_reference_typed_at_the_end_of_a_sentence_or_with_the_scheme_s_port_is_read():
    # found by tester13: both were refused with the usage text
    expected = Reference("pipeline", 9001, "acme/api")
    assert parse_pipeline_reference(f"{BASE}/acme/api/-/pipelines/9001.", BASE) == expected
    assert parse_pipeline_reference("https://gitlab.example.com:443/acme/api/-/pipelines/9001", BASE) == expected
    assert parse_pipeline_reference("https://gitlab.example.com:8443/acme/api/-/pipelines/9001", BASE) is None
    assert parse_pipeline_reference("https://gitlab.example.com:99999/acme/api/-/pipelines/9001", BASE) is None


def test_parse_pipeline_reference_respects_a_base_url_with_a_subpath():
    base = "https://corp.example.com/gitlab/"
    assert parse_pipeline_reference("https://corp.example.com/gitlab/a/b/-/pipelines/3", base) == Reference(
        "pipeline", 3, "a/b"
    )
    assert parse_pipeline_reference("https://corp.example.com/a/b/-/pipelines/3", base) is None


# --- MR diffs, test reports, notes ---------------------------------------------


def test_changed_paths_uses_new_paths_and_is_bounded():
    diffs = load("merge_request_diffs.json")
    assert changed_paths(diffs, 10) == [
        "app/auth/login.py",
        "tests/integration/test_login.py",
        "docs/authentication.md",
    ]
    assert changed_paths(diffs, 1) == ["app/auth/login.py"]
    assert changed_paths([{"deleted_file": True, "old_path": "gone.py", "new_path": "gone.py"}, None], 5) == ["gone.py"]


def test_failed_test_cases_keeps_failed_and_errored_only():
    cases = failed_test_cases(load("test_report.json"))
    assert [(c["name"], c["status"], c["suite"]) for c in cases] == [
        ("test_login_retries_on_503", "failed", "integration-tests"),
        ("test_logout_clears_session", "error", "integration-tests"),
    ]
    assert "expected 3 calls" in cases[0]["stack_trace"]
    assert cases[1]["stack_trace"] == ""


def test_failed_test_cases_is_bounded_and_clips_outputs():
    report = {
        "test_suites": [
            {
                "name": "s",
                "test_cases": [
                    {"status": "failed", "name": f"t{i}", "system_output": "y" * 10_000} for i in range(100)
                ],
            }
        ]
    }
    cases = failed_test_cases(report, limit=3)
    assert [c["name"] for c in cases] == ["t0", "t1", "t2"]
    assert len(cases[0]["system_output"]) <= 2001
    assert failed_test_cases({"test_suites": "nope"}) == []
    assert failed_test_cases(None) == []
