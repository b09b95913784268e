"""The GitLab client against the fake GitLab: pagination, streaming, retries and typed errors."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import tracemalloc

import aiohttp
import pytest

from bot.clients.gitlab import GitLabClient
from bot.clients.gitlab_errors import (
    GitLabAuthError,
    GitLabBadResponse,
    GitLabError,
    GitLabNotFound,
    GitLabUnavailable,
    parse_retry_after,
    project_ref,
)
from config.settings import Settings
from tests.fakes.gitlab_server import DEFAULT_TOKEN, FakeGitLab
from tests.helpers import DATA, ROOT

PAYLOADS = DATA / "gitlab"
PROJECT = "acme/platform/api"


class Sleeps:
    """Records the pauses the client asks for instead of waiting them out."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
async def gl():
    async with FakeGitLab() as fake:
        fake.state.add_project(PROJECT, id=42)
        yield fake


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def client(gl, session, sleeps):
    return GitLabClient(session, gl.url, DEFAULT_TOKEN, timeout=5, max_attempts=4, retry_max_seconds=60, sleep=sleeps)


# --- reading ------------------------------------------------------------------


async def test_pagination_is_followed_to_the_last_page(gl, client):
    jobs = [{"id": 1000 + i, "name": f"job-{i}", "status": "success"} for i in range(250)]
    gl.state.add_pipeline(42, id=7, jobs=jobs)
    got = await client.list_pipeline_jobs(42, 7)
    assert sorted(j["id"] for j in got) == sorted(j["id"] for j in jobs)
    pages = gl.state.calls_to(r"/pipelines/7/jobs$")
    assert [c.query.get("page", "1") for c in pages] == ["1", "2", "3"]
    assert all(c.query["per_page"] == "100" and c.query["include_retried"] == "true" for c in pages)


async def test_retried_jobs_are_listed_and_the_rules_see_them(gl, client):
    gl.state.add_pipeline(
        42,
        id=8,
        jobs=[
            {"id": 1, "name": "unit", "status": "failed", "retried": True},
            {"id": 2, "name": "unit", "status": "success"},
        ],
    )
    assert [j["id"] for j in await client.list_pipeline_jobs(42, 8)] == [2, 1]
    assert [j["id"] for j in await client.list_pipeline_jobs(42, 8, include_retried=False)] == [2]


async def test_project_path_is_url_encoded(gl, client):
    project = await client.get_project(PROJECT)
    assert project["id"] == 42
    assert gl.calls[-1].path == "/api/v4/projects/acme%2Fplatform%2Fapi"
    assert project_ref("42") == "42" and project_ref(42) == "42"
    with pytest.raises(ValueError):
        project_ref("")


async def test_pipeline_job_bridges_and_test_report(gl, client):
    gl.state.add_pipeline(
        42,
        id=9001,
        jobs=[{"id": 70005, "name": "integration-tests", "status": "failed"}],
        bridges=[
            {
                "id": 70011,
                "name": "trigger-docs",
                "status": "failed",
                "downstream_pipeline": {"id": 9003, "status": "failed"},
            }
        ],
    )
    gl.state.set_test_report(42, 9001, json.loads((PAYLOADS / "test_report.json").read_text()))
    assert (await client.get_pipeline(42, 9001))["status"] == "failed"
    assert (await client.get_job(42, 70005))["name"] == "integration-tests"
    bridges = await client.list_pipeline_bridges(42, 9001)
    assert bridges[0]["downstream_pipeline"]["id"] == 9003
    failed = await client.get_test_report(42, 9001)
    assert [c["name"] for c in failed] == ["test_login_retries_on_503", "test_logout_clears_session"]
    summary = await client.get_test_report_summary(42, 9001)
    assert summary["total"]["failed"] == 1


async def test_merge_request_reads(gl, client):
    sha = "4a7b2c9d1e3f5a6b7c8d9e0f1a2b3c4d5e6f7a8b"
    gl.state.add_mr(42, 17, sha=sha, title="Retry login", changed_files=[f"src/f{i}.py" for i in range(150)])
    assert (await client.get_merge_request(42, 17))["title"] == "Retry login"
    assert [m["iid"] for m in await client.find_merge_requests_for_commit(42, sha)] == [17]
    assert await client.find_merge_requests_for_commit(42, "0" * 40) == []
    files = await client.list_merge_request_changed_files(42, 17, limit=120)
    assert files == [f"src/f{i}.py" for i in range(120)]


async def test_changed_files_fall_back_to_changes_on_old_gitlab(gl, client):
    gl.state.add_mr(42, 3, changed_files=["a.py"])
    gl.state.add_fault(r"/merge_requests/3/diffs$", 404, body={"error": "404 Not Found"})
    assert await client.list_merge_request_changed_files(42, 3) == ["a.py"]
    assert gl.state.calls_to(r"/merge_requests/3/changes$")


async def test_member_access_level_and_current_user(gl, client):
    alice = gl.state.add_user("alice", id=7)
    gl.state.add_member(42, alice, 30)
    assert await client.get_member_access_level(42, 7) == 30
    assert await client.get_member_access_level(42, 12345) == 0
    me = await client.current_user()
    assert (me["username"], me["bot"]) == ("cicd-bot", True)


async def test_file_raw_found_missing_and_bounded(gl, client):
    gl.state.add_file(42, ".gitlab-ci.yml", "abc123", "stages: [build, test]\n")
    gl.state.add_file(42, "ci/big.yml", "abc123", "x" * 100_000)
    assert await client.get_file_raw(42, ".gitlab-ci.yml", "abc123") == "stages: [build, test]\n"
    assert await client.get_file_raw(42, ".gitlab-ci.yml", "other") is None
    assert len(await client.get_file_raw(42, "ci/big.yml", "abc123", max_bytes=1000)) == 1000
    assert gl.calls[-1].path.endswith("/repository/files/ci%2Fbig.yml/raw")


# --- streaming ------------------------------------------------------------------


async def test_trace_is_streamed_in_chunks(gl, client):
    trace = b"".join(b"line %06d: compiling module\n" % i for i in range(40_000))  # about 1.1 MB
    gl.state.add_pipeline(42, id=5, jobs=[{"id": 55, "name": "build", "status": "failed", "trace": trace}])
    gl.state.trace_chunk_size = 16_384
    gl.state.trace_delay = 0.002
    chunks: list[bytes] = []
    sent_when_first_arrived = None
    async for chunk in client.stream_trace(42, 55, chunk_size=65_536):
        if not chunks:
            sent_when_first_arrived = gl.state.trace_bytes_sent[(42, 55)]
        chunks.append(chunk)
    assert b"".join(chunks) == trace
    assert len(chunks) > 10
    assert max(len(c) for c in chunks) <= 65_536
    # The first bytes were in our hands while most of the log was still on the server.
    assert sent_when_first_arrived < len(trace) // 2


async def test_large_trace_is_never_held_in_memory_at_once(gl, client):
    trace = b"y" * 79 + b"\n"
    trace = trace * (8 * 1024 * 1024 // len(trace))  # 8 MiB
    gl.state.add_pipeline(42, id=6, jobs=[{"id": 66, "name": "build", "status": "failed", "trace": trace}])
    gl.state.trace_chunk_size = 65_536
    total = 0
    tracemalloc.start()
    try:
        async for chunk in client.stream_trace(42, 66):
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == len(trace)
    assert peak < len(trace) // 4


async def test_trace_of_a_missing_job_is_a_typed_error(gl, client):
    with pytest.raises(GitLabNotFound):
        async for _ in client.stream_trace(42, 999):
            pass


async def test_trace_retries_until_headers_arrive(gl, client, sleeps):
    gl.state.add_pipeline(42, id=4, jobs=[{"id": 44, "name": "b", "status": "failed", "trace": "boom\n"}])
    gl.state.add_fault(r"/jobs/44/trace$", 502, times=1)
    assert b"".join([c async for c in client.stream_trace(42, 44)]) == b"boom\n"
    assert len(sleeps.calls) == 1


# --- retries and errors ---------------------------------------------------------------


async def test_429_then_success_honours_retry_after(gl, client, sleeps):
    gl.state.add_pipeline(42, id=11)
    gl.state.add_fault(r"/pipelines/11$", 429, retry_after=7)
    assert (await client.get_pipeline(42, 11))["id"] == 11
    assert sleeps.calls == [7.0]
    assert len(gl.state.calls_to(r"/pipelines/11$")) == 2


async def test_retry_after_is_really_waited(gl, session):
    gl.state.add_pipeline(42, id=12)
    gl.state.add_fault(r"/pipelines/12$", 429, retry_after=1)
    client = GitLabClient(session, gl.url, DEFAULT_TOKEN, timeout=5)
    started = time.monotonic()
    await client.get_pipeline(42, 12)
    assert time.monotonic() - started >= 0.99  # a lower bound: a slow machine only waits longer


async def test_500_twice_then_success(gl, client, sleeps):
    gl.state.add_pipeline(42, id=13)
    gl.state.add_fault(r"/pipelines/13$", 500, times=2)
    assert (await client.get_pipeline(42, 13))["id"] == 13
    assert len(gl.state.calls_to(r"/pipelines/13$")) == 3
    assert len(sleeps.calls) == 2 and all(0 < s <= 10 for s in sleeps.calls)


async def test_404_is_a_typed_error_and_not_retried(gl, client, sleeps):
    with pytest.raises(GitLabNotFound) as err:
        await client.get_pipeline(42, 404404)
    assert err.value.status == 404
    assert "404" in str(err.value) and "/projects/42/pipelines/404404" in str(err.value)
    assert len(gl.state.calls_to(r"/pipelines/404404$")) == 1 and sleeps.calls == []


async def test_unknown_project_is_not_found(gl, client):
    with pytest.raises(GitLabNotFound):
        await client.get_project("nobody/nothing")


async def test_401_is_an_auth_error_and_not_retried(gl, session, sleeps):
    client = GitLabClient(session, gl.url, "wrong-" + "x" * 20, sleep=sleeps)
    with pytest.raises(GitLabAuthError) as err:
        await client.current_user()
    assert err.value.status == 401
    assert "GITLAB_API_TOKEN" in str(err.value)
    assert len(gl.calls) == 1 and sleeps.calls == []


async def test_400_is_a_plain_error_and_not_retried(gl, client, sleeps):
    gl.state.add_fault(r"/pipelines/1$", 400, body={"message": "400 Bad request"})
    with pytest.raises(GitLabError) as err:
        await client.get_pipeline(42, 1)
    assert err.value.status == 400 and not isinstance(err.value, GitLabUnavailable)
    assert sleeps.calls == []


async def test_retries_are_bounded_by_attempts(gl, session, sleeps):
    client = GitLabClient(session, gl.url, DEFAULT_TOKEN, max_attempts=3, sleep=sleeps)
    gl.state.add_pipeline(42, id=14)
    gl.state.add_fault(r"/pipelines/14$", 503, times=10)
    with pytest.raises(GitLabUnavailable) as err:
        await client.get_pipeline(42, 14)
    assert err.value.attempts == 3 and err.value.last.status == 503 and err.value.status == 503
    assert "after 3 attempts" in str(err.value)
    assert len(gl.state.calls_to(r"/pipelines/14$")) == 3


async def test_retries_are_bounded_by_time(gl, session, sleeps):
    client = GitLabClient(session, gl.url, DEFAULT_TOKEN, max_attempts=10, retry_max_seconds=30, sleep=sleeps)
    gl.state.add_pipeline(42, id=15)
    gl.state.add_fault(r"/pipelines/15$", 429, retry_after=120, times=5)
    with pytest.raises(GitLabUnavailable):
        await client.get_pipeline(42, 15)
    # Waiting 120 s would overrun the 30 s budget, so the client gives up without sleeping.
    assert sleeps.calls == [] and len(gl.state.calls_to(r"/pipelines/15$")) == 1


async def test_timeouts_are_retried(gl, session, sleeps):
    client = GitLabClient(session, gl.url, DEFAULT_TOKEN, timeout=0.3, sleep=sleeps)
    gl.state.add_pipeline(42, id=16)
    gl.state.add_fault(r"/pipelines/16$", 0, delay=1.0)
    assert (await client.get_pipeline(42, 16))["id"] == 16
    assert len(sleeps.calls) == 1


async def test_connection_refused_runs_out_as_unavailable(session, sleeps):
    async with FakeGitLab() as fake:
        url = fake.url
    client = GitLabClient(session, url, DEFAULT_TOKEN, max_attempts=2, sleep=sleeps)
    with pytest.raises(GitLabUnavailable) as err:
        await client.current_user()
    assert err.value.status is None and "connection failed" in str(err.value)


async def test_a_post_that_may_have_landed_is_not_repeated(gl, client, sleeps):
    gl.state.add_mr(42, 17)
    gl.state.add_fault(r"/merge_requests/17/notes$", 502, method="POST")
    with pytest.raises(GitLabUnavailable) as err:
        await client.create_mr_note(42, 17, "analysis")
    assert err.value.attempts == 1 and err.value.status == 502
    assert "after 1 attempt (server error 502)" in str(err.value)
    assert len(gl.state.calls_to(r"/merge_requests/17/notes$", "POST")) == 1 and sleeps.calls == []


async def test_a_rate_limited_post_is_repeated(gl, client, sleeps):
    gl.state.add_mr(42, 17)
    gl.state.add_fault(r"/merge_requests/17/notes$", 429, method="POST", retry_after=2)
    note = await client.create_mr_note(42, 17, "analysis")
    assert note["body"] == "analysis" and sleeps.calls == [2.0]
    assert [n["body"] for n in gl.notes_for(42, 17)] == ["analysis"]


async def test_pagination_link_to_another_host_is_refused(gl, client):
    gl.state.add_pipeline(42, id=17)
    gl.state.add_fault(
        r"/pipelines/17/jobs$",
        200,
        body=[{"id": 1, "name": "a"}],
        headers={"Link": '<http://elsewhere.invalid/api/v4/steal?page=2>; rel="next"'},
    )
    with pytest.raises(GitLabBadResponse, match="refusing to send the token"):
        await client.list_pipeline_jobs(42, 17)


@pytest.mark.parametrize("body", ["not an object", [1, 2], None])
async def test_wrong_shapes_are_bad_responses(gl, client, body):
    gl.state.add_fault(r"/pipelines/18$", 200, body=body if body is not None else "")
    with pytest.raises(GitLabBadResponse):
        await client.get_pipeline(42, 18)


async def test_list_with_non_object_items_is_a_bad_response(gl, client):
    gl.state.add_fault(r"/pipelines/19/bridges$", 200, body=["x"])
    with pytest.raises(GitLabBadResponse):
        await client.list_pipeline_bridges(42, 19)


async def test_the_token_never_appears_in_logs_errors_or_repr(gl, session, sleeps, caplog):
    token = "glpat-" + "q" * 20
    gl.state.add_token(token, "cicd-bot")
    client = GitLabClient(session, gl.url, token, max_attempts=2, sleep=sleeps)
    gl.state.add_fault(r"/pipelines/20$", 503, times=5)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(GitLabUnavailable) as err:
        await client.get_pipeline(42, 20)
    assert "retrying" in caplog.text
    assert token not in caplog.text and token not in str(err.value) and token not in repr(client)
    assert all(token not in json.dumps(c.headers) for c in gl.calls)


# --- writing --------------------------------------------------------------------


async def test_note_lifecycle_and_discussion_reply(gl, client):
    gl.state.add_mr(42, 17)
    human = gl.state.add_discussion(42, 17, "@cicd-bot why?", author="alice")
    note = await client.create_mr_note(42, 17, "<!-- marker -->\nfirst")
    updated = await client.update_mr_note(42, 17, note["id"], "<!-- marker -->\nsecond")
    assert updated["body"].endswith("second")
    notes = await client.list_mr_notes(42, 17)
    assert [n["body"] for n in notes] == ["@cicd-bot why?", "<!-- marker -->\nsecond"]
    assert gl.calls[-1].query["sort"] == "asc"
    reply = await client.reply_to_discussion(42, 17, human["id"], "Because the test timed out.")
    discussions = await client.list_mr_discussions(42, 17)
    thread = next(d for d in discussions if d["id"] == human["id"])
    assert [n["id"] for n in thread["notes"]][-1] == reply["id"]
    award = await client.award_emoji_on_note(42, 17, human["notes"][0]["id"], "eyes")
    assert award["name"] == "eyes"
    assert gl.quick_actions == []


async def test_command_only_note_is_a_clear_error_and_recorded_by_the_fake(gl, client):
    gl.state.add_mr(42, 17)
    with pytest.raises(GitLabBadResponse, match=r"quick actions \(merge\)") as err:
        await client.create_mr_note(42, 17, "/merge")
    assert err.value.status == 202
    assert [q["command"] for q in gl.quick_actions] == ["merge"]
    assert gl.notes_for(42, 17) == []


async def test_quick_actions_inside_code_blocks_are_caught_too(gl, client):
    gl.state.add_mr(42, 17)
    await client.create_mr_note(42, 17, "Log:\n```\n/approve\n  /label ~bug\n```\n/usr/bin/make failed")
    assert [q["command"] for q in gl.quick_actions] == ["approve", "label"]


async def test_commit_comment(gl, client):
    sha = "4a7b2c9d1e3f5a6b7c8d9e0f1a2b3c4d5e6f7a8b"
    comment = await client.create_commit_comment(42, sha, "Pipeline failed: see !17")
    assert comment["note"] == "Pipeline failed: see !17"
    assert gl.state.commit_comments[(42, sha)][0]["author"]["username"] == "cicd-bot"


# --- construction ---------------------------------------------------------------


async def test_from_settings(gl, session):
    settings = Settings(
        _env_file=None, GITLAB_BASE_URL=gl.url, GITLAB_API_TOKEN=DEFAULT_TOKEN, GITLAB_TIMEOUT_SECONDS=3
    )
    client = GitLabClient.from_settings(settings, session)
    assert (await client.current_user())["username"] == "cicd-bot"
    with pytest.raises(GitLabAuthError, match="GITLAB_API_TOKEN is not set"):
        GitLabClient.from_settings(Settings(_env_file=None, GITLAB_BASE_URL=gl.url), session)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="GITLAB_BASE_URL"):
        GitLabClient(None, "gitlab.example.com", "t")  # type: ignore[arg-type]


async def test_bad_ids_never_reach_the_network(gl, client):
    with pytest.raises(ValueError, match="pipeline_id"):
        await client.get_pipeline(42, "1/../../user")  # type: ignore[arg-type]
    assert gl.calls == []


@pytest.mark.parametrize(
    "header, expected",
    [
        ("7", 7.0),
        ("0", 0.0),
        ("99999", 3600.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date_in_the_future():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == 30.0


# --- the fake as a separate process, the way end-to-end tests drive it -------------------


async def test_fake_gitlab_subprocess_with_admin_api(session, sleeps):
    import sys

    root = ROOT
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.gitlab_server",
        "--port",
        "0",
        cwd=root,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        url = line.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        token = "e2e-" + "t" * 20
        seed = {
            "tokens": {token: "cicd-bot"},
            "users": [{"username": "alice", "id": 7}],
            "projects": [{"path": PROJECT, "id": 42}],
            "pipelines": [
                {
                    "project": 42,
                    "id": 9001,
                    "ref": "refs/merge-requests/17/head",
                    "jobs": [{"id": 70005, "name": "integration-tests", "status": "failed", "trace": "E boom\n"}],
                }
            ],
            "mrs": [{"project": 42, "iid": 17}],
            "members": [{"project": 42, "user": "alice", "access_level": 40}],
        }
        async with session.post(f"{url}/_fake/seed", json=seed) as resp:
            assert resp.status == 200
        async with session.post(f"{url}/_fake/fault", json={"pattern": "/pipelines/9001$", "status": 503}) as resp:
            assert resp.status == 200
        client = GitLabClient(session, url, token, sleep=sleeps)
        assert (await client.get_pipeline(PROJECT, 9001))["id"] == 9001
        assert b"".join([c async for c in client.stream_trace(42, 70005)]) == b"E boom\n"
        assert await client.get_member_access_level(42, 7) == 40
        await client.create_mr_note(42, 17, "hello")
        async with session.get(f"{url}/_fake/calls") as resp:
            calls = await resp.json()
        assert [c["method"] for c in calls if c["path"].endswith("/pipelines/9001")] == ["GET", "GET"]
        assert all(token not in json.dumps(c["headers"]) for c in calls)
        async with session.get(f"{url}/_fake/state") as resp:
            state = await resp.json()
        assert [n["body"] for n in state["notes"]["42!17"]] == ["hello"]
        assert state["quick_actions"] == []
        async with session.post(f"{url}/_fake/seed", json={"projects": [{"nope": 1}]}) as resp:
            assert resp.status == 400
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)


async def test_a_redirect_is_a_clear_error_about_the_base_url(gl, client, sleeps):
    gl.state.add_fault(r"/pipelines/21$", 302, headers={"Location": "http://127.0.0.1:1/users/sign_in"}, body="")
    with pytest.raises(GitLabError, match="GITLAB_BASE_URL") as err:
        await client.get_pipeline(42, 21)
    assert err.value.status == 302 and sleeps.calls == []
