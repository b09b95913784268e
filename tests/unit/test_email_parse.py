"""The pure email parser on recorded GitLab pipeline mails, forged and broken ones, and random bytes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from bot.core.email_parse import (
    FailedJobRef,
    PipelineFailureEmail,
    SkippedEmail,
    message_key,
    parse_email,
    parse_failed_jobs,
    sender_matches,
)
from tests.helpers import DATA

EMAILS = DATA / "email"
SENDER = "gitlab@gitlab.example.com"


def parse(name: str, **kwargs):
    return parse_email((EMAILS / f"{name}.eml").read_bytes(), gitlab_sender=SENDER, **kwargs)


def test_merge_request_pipeline_mail():
    got = parse("failed_mr")
    assert isinstance(got, PipelineFailureEmail)
    assert (got.project_id, got.project_path, got.project_name) == (42, "acme/platform/api", "api")
    assert (got.pipeline_id, got.ref, got.mr_iid) == (9001, "refs/merge-requests/17/head", 17)
    assert got.failed_jobs == (FailedJobRef(70005, "integration-tests", "test"), FailedJobRef(70004, "lint", "test"))
    assert got.date == "2024-05-14T09:14:02+00:00"
    assert got.message_id == "<6643297a1b2c3_4f2a3fe8d1c0b@gitlab-sidekiq-7d9f.mail>"
    assert got.list_id == "acme/platform/api <api.platform.acme.42.gitlab.example.com>"


def test_branch_pipeline_mail_with_quoted_printable_utf8_and_odd_job_names():
    got = parse("failed_branch")
    assert isinstance(got, PipelineFailureEmail)
    assert (got.pipeline_id, got.ref, got.mr_iid) == (9017, "main", None)
    assert [j.name for j in got.failed_jobs] == ["compile: linux/amd64 [go 1.22]", "unit-tests & coverage"]
    assert [j.stage for j in got.failed_jobs] == ["build", "test"]


def test_job_payload_shape():
    got = parse("failed_mr")
    assert got.email_payload() == {
        "project_path": "acme/platform/api",
        "ref": "refs/merge-requests/17/head",
        "mr_iid": 17,
        "failed_jobs": [
            {"id": 70005, "name": "integration-tests", "stage": "test"},
            {"id": 70004, "name": "lint", "stage": "test"},
        ],
        "message_id": "<6643297a1b2c3_4f2a3fe8d1c0b@gitlab-sidekiq-7d9f.mail>",
    }


def test_sender_must_match_exactly():
    got = parse("other_sender")
    assert isinstance(got, SkippedEmail) and got.status == "skipped"
    assert (
        got.reason == "not from IMAP_GITLAB_EMAIL (gitlab@gitlab.example.com); From: GitLab <gitlab@evil.example.net>"
    )
    assert sender_matches("GitLab <GitLab@GitLab.Example.com>", SENDER)
    assert sender_matches("gitlab@gitlab.example.com", "noreply@x.org, gitlab@gitlab.example.com")
    assert not sender_matches("gitlab@gitlab.example.com, evil@x.org", SENDER)  # two senders: not GitLab's mail
    assert not sender_matches("gitlab@gitlab.example.com.evil.org", SENDER)
    assert not sender_matches(None, SENDER)
    assert not sender_matches(SENDER, "")


def test_success_and_non_pipeline_mail_are_skipped():
    got = parse("success")
    assert (got.status, got.reason, got.pipeline_id) == ("skipped", "pipeline status is 'success', not 'failed'", 9003)
    raw = (EMAILS / "failed_mr.eml").read_bytes().replace(b"X-GitLab-Pipeline-Id: 9001\r\n", b"")
    got = parse_email(raw, gitlab_sender=SENDER)
    assert (got.status, got.reason) == ("skipped", "not a GitLab pipeline email (no X-GitLab-Pipeline-Id header)")


def test_malformed_mail_says_why():
    assert parse("broken_mime").reason.startswith("broken MIME structure: ")
    assert parse("bad_charset").reason == "cannot decode the text part: unknown encoding: x-no-such-charset"
    missing = parse("missing_project_id")
    assert (missing.status, missing.reason, missing.pipeline_id) == (
        "malformed",
        "missing header X-GitLab-Project-Id",
        9006,
    )
    raw = (EMAILS / "failed_mr.eml").read_bytes()
    got = parse_email(
        raw.replace(b"X-GitLab-Pipeline-Id: 9001", b"X-GitLab-Pipeline-Id: 90; DROP"), gitlab_sender=SENDER
    )
    assert (got.status, got.reason) == ("malformed", "header X-GitLab-Pipeline-Id is not a number: '90; DROP'")
    got = parse_email(
        raw.replace(b"X-GitLab-Project-Path: acme/platform/api", b"X-GitLab-Project-Path: ../../etc"),
        gitlab_sender=SENDER,
    )
    assert got.reason == "header X-GitLab-Project-Path is not a project path: '../../etc'"
    got = parse_email(raw, gitlab_sender=SENDER, max_bytes=1024)
    assert (got.status, got.reason) == ("malformed", f"too large: {len(raw)} bytes, over IMAP_MAX_MESSAGE_BYTES=1024")
    assert got.message_id == "<6643297a1b2c3_4f2a3fe8d1c0b@gitlab-sidekiq-7d9f.mail>"


def test_missing_message_id_falls_back_to_a_stable_header_hash():
    raw = (EMAILS / "no_message_id.eml").read_bytes()
    got = parse_email(raw, gitlab_sender=SENDER)
    assert isinstance(got, PipelineFailureEmail) and got.message_id.startswith("sha256:")
    head = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    assert message_key(head) == got.message_id  # what a header-only fetch of a too-large copy would give
    assert message_key(raw.replace(b"Pipeline-Id: 9007", b"Pipeline-Id: 9008")) != got.message_id


def test_failed_jobs_text_variants():
    text = (
        "had 2 failed jobs.\n\nJob #5 ( https://x/-/jobs/5 )\n\nStage: test\nName: rspec &amp; friends\n"
        "Job #6 ( https://x/-/jobs/6 )\nStage: deploy\n"
    )
    assert parse_failed_jobs(text) == [FailedJobRef(5, "rspec & friends", "test"), FailedJobRef(6, "", "deploy")]
    assert parse_failed_jobs("Stage: test\nName: orphan\n") == []
    assert len(parse_failed_jobs("Job #1\n" * 5000)) == 200


@hyp_settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise(raw):
    got = parse_email(raw, gitlab_sender=SENDER, max_bytes=2000)
    assert isinstance(got, (PipelineFailureEmail, SkippedEmail))
    assert got.message_id


@hyp_settings(max_examples=200, deadline=None)
@given(st.integers(0, 4000), st.binary(max_size=40))
def test_mangled_real_mail_never_raises(cut, noise):
    raw = (EMAILS / "failed_mr.eml").read_bytes()
    got = parse_email(raw[:cut] + noise + raw[cut + len(noise) :], gitlab_sender=SENDER)
    assert isinstance(got, (PipelineFailureEmail, SkippedEmail))
    if isinstance(got, SkippedEmail):
        assert got.status in ("skipped", "malformed") and got.reason
