"""Queue job kinds: the registry, typed payloads (what the doors build is what the jobs accept, as stored before),
a bad payload dead-lettered with its reason, the ports the jobs use, and a job run against in-process fakes."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil

import pytest

import bot.jobs
from bot.clients import ports
from bot.clients.gitlab import GitLabClient
from bot.clients.gitlab_notes import MrNotes
from bot.clients.log_fetch import excerpt_from_stream
from bot.clients.slack import SlackPublisher
from bot.core import messages as m
from bot.core.email_parse import parse_email
from bot.core.outcomes import PermanentFailure
from bot.jobs import analyze_pipeline, registry, slack_feedback
from bot.jobs.analyze_pipeline import AnalyzePipelinePayload
from bot.providers.router import ProviderRouter
from bot.runtime.services import Services
from bot.runtime.worker import Worker
from handlers import email as email_door
from handlers.gitlab_routing import route
from storage.analyses import get_analysis
from storage.ledger import DatabaseLedger
from storage.models import QueueJob
from storage.queue import ClaimedJob, enqueue
from tests.fakes.ports import InProcessGitLab, RecordingNotes, RecordingSlack
from tests.helpers import DATA, gitlab_payload, make_settings
from tests.scenario import MR_IID, PROJECT_ID, PROJECT_PATH, PYTEST_TRACE

# The kind names stored in the queue rows of running installations.
STORED_KINDS = {"analyze_pipeline", "pipeline_passed", "mr_note", "slack_command", "slack_followup", "slack_feedback"}
EMAILS = DATA / "email"


# --- the registry -------------------------------------------------------------------------


def test_the_registry_has_every_kind_under_its_stored_name():
    assert set(registry.KINDS) == STORED_KINDS
    for kind, entry in registry.KINDS.items():
        module = importlib.import_module(entry.run.__module__)
        assert module.KIND == kind and entry.payload.job_kind == kind, kind
        assert entry.payload.__module__ == module.__name__, "the payload lives with its job"
        assert registry.HANDLERS[kind] is entry.run


def test_every_module_that_names_a_kind_is_registered():
    for info in pkgutil.iter_modules(bot.jobs.__path__):
        module = importlib.import_module(f"bot.jobs.{info.name}")
        if hasattr(module, "KIND"):
            assert registry.KINDS[module.KIND].run is module.run, module.__name__


# --- a payload that does not fit ----------------------------------------------------------

BAD_PAYLOADS = {
    "analyze_pipeline": ({"project_id": 42, "pipeline_id": "soon"}, "pipeline_id: Input should be a valid integer"),
    "pipeline_passed": ({"project_id": 42}, "pipeline_id: Field required"),
    "mr_note": (
        {"project_id": 42, "mr_iid": 17, "note": "@cicd-bot glpat-abcdefghijklmnopqrst"},
        "note_id: Field required",
    ),
    "slack_command": ({"project": "group/app", "kind": "branch", "number": 42}, "kind: Input should be"),
    "slack_followup": ({"channel": "C1", "thread_ts": "", "ts": "1.2"}, "thread_ts: String should have at least"),
    "slack_feedback": ({"analysis_id": "7", "direction": "up"}, "analysis_id: Input should be a valid integer"),
}


def test_every_kind_has_a_malformed_payload_case():
    assert set(BAD_PAYLOADS) == STORED_KINDS


@pytest.mark.parametrize("kind", sorted(BAD_PAYLOADS))
async def test_a_malformed_payload_fails_for_good_and_says_which_field(kind):
    payload, reason = BAD_PAYLOADS[kind]
    services = Services.build(make_settings())
    try:
        with pytest.raises(PermanentFailure) as failed:
            await registry.KINDS[kind].run(services, ClaimedJob(1, kind, payload, 1, 5, "w"))
    finally:
        await services.db.dispose()
    assert str(failed.value).startswith(f"bad {kind} payload: {reason}")
    assert "glpat" not in str(failed.value), "the reason names fields, not their values"


async def test_a_malformed_payload_is_dead_lettered_on_its_first_attempt(database):
    services = Services.build(make_settings(), db=database)
    async with database.session() as s:
        job_id = await enqueue(
            s, "slack_command", {"project": "group/app", "kind": "pipeline", "number": "42"}, max_attempts=5
        )
    worker = Worker(services, registry.HANDLERS, concurrency=1, poll_seconds=0.05)
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(200):
            async with database.session() as s:
                row = await s.get(QueueJob, job_id)
            if row.state == "dead":
                break
            await asyncio.sleep(0.05)
    finally:
        worker.stop()
        await task
    assert (row.state, row.attempts) == ("dead", 1)
    assert row.last_error == "PermanentFailure: bad slack_command payload: number: Input should be a valid integer"


# --- what the doors build is what the jobs accept, stored as before -----------------------


def accepted(kind: str, payload: dict) -> None:
    """The job's model takes the stored payload and gives back exactly the same JSON."""
    model = registry.KINDS[kind].payload.model_validate(payload)
    assert model.to_json() == payload


def test_the_gitlab_door_builds_payloads_the_jobs_accept():
    pipe = gitlab_payload("pipeline_hook")
    passed = {**pipe, "object_attributes": {**pipe["object_attributes"], "status": "success"}}
    ci_job = {**gitlab_payload("job_hook"), "build_status": "failed", "build_allow_failure": False}
    specs = [
        spec
        for event, body in (
            ("Pipeline Hook", pipe),
            ("Pipeline Hook", passed),
            ("Job Hook", ci_job),
            ("Note Hook", gitlab_payload("note_hook")),
        )
        for spec in route(event, body, {}, b"{}", "cicd-bot").jobs
    ]
    assert [s.kind for s in specs] == ["analyze_pipeline", "pipeline_passed", "analyze_pipeline", "mr_note"]
    for spec in specs:
        accepted(spec.kind, spec.payload)
    project_id, pipeline_id = pipe["project"]["id"], pipe["object_attributes"]["id"]
    assert specs[0].payload == {"project_id": project_id, "pipeline_id": pipeline_id, "trigger": "webhook"}
    assert specs[1].payload == specs[0].payload
    assert set(specs[3].payload) == {"project_id", "mr_iid", "note_id", "discussion_id", "user_id", "username", "note"}


@pytest.mark.parametrize("name", ["failed_mr", "failed_branch"])
def test_the_email_door_builds_the_payload_it_stored_before(name):
    parsed = parse_email((EMAILS / f"{name}.eml").read_bytes(), gitlab_sender="gitlab@gitlab.example.com")
    spec = email_door.job_spec(parsed, parsed.email_payload())
    accepted(spec.kind, spec.payload)
    assert spec.payload == {
        "project_id": parsed.project_id,
        "pipeline_id": parsed.pipeline_id,
        "trigger": "email",
        "email": parsed.email_payload(),
    }


async def test_the_slack_door_builds_payloads_the_jobs_accept(database):
    from tests.fakes.ports import MemoryRouter
    from tests.slack_kit import (
        CHANNEL,
        action_body,
        sample_report,
        slack_harness,
        thread_event,
    )

    async with slack_harness(database) as h:
        h.services.router = MemoryRouter()
        await h.command("explain group/app#42", trigger="t1")
        await h.event(
            {
                "type": "app_mention",
                "channel": CHANNEL,
                "user": "U0HUMAN001",
                "ts": "3.1",
                "thread_ts": "3.0",
                "text": "<@U0BOT00001> reanalyze group/app!3",
            },
            event_id="EvM",
        )
        await h.services.slack.start(sample_report(with_result=False))
        parent = h.slack.top_level(CHANNEL)[0]
        await h.event(thread_event("why?", "8.1", parent.ts), event_id="EvQ")
        value = {"analysis_id": 1, "project": "group/app", "pipeline": 42}
        await h.post(action_body("feedback_up", value, trigger="a1"))
        await h.post(action_body("reanalyze_with:heuristic", value, trigger="a2"))
        await h.settle()
        rows = await h.jobs()
    by_kind: dict[str, list[dict]] = {}
    for row in rows:
        accepted(row.kind, row.payload)
        by_kind.setdefault(row.kind, []).append(row.payload)
    target = {"channel", "user", "thread_ts", "response_url", "team_id"}
    typed, mentioned, clicked = by_kind["slack_command"]
    assert set(typed) == set(mentioned) == {"command", "project", "kind", "number", "provider", "slack", "request_key"}
    assert set(clicked) == set(typed) | {"announce"}
    assert all(set(p["slack"]) == target for p in (typed, mentioned, clicked))
    assert set(by_kind["slack_followup"][0]) == {
        "channel",
        "thread_ts",
        "ts",
        "user",
        "team_id",
        "text",
        "project_id",
        "pipeline_id",
        "project_path",
    }
    assert set(by_kind["slack_feedback"][0]) == {"analysis_id", "direction", "slack"}
    # the slack_command job queued an analysis per command; those payloads fit analyze_pipeline too
    assert len(by_kind["analyze_pipeline"]) == len(h.analyses) == 3
    for payload in h.analyses:
        accepted("analyze_pipeline", payload)
        assert {"project_id", "trigger", "provider_hint", "force", "slack"} <= set(payload)


# --- the ports -----------------------------------------------------------------------------


def port_methods(port: type) -> list[str]:
    names = {name for cls in port.__mro__ if cls.__module__ == ports.__name__ for name in vars(cls)}
    return sorted(name for name in names if not name.startswith("_") or name == "__call__")


def fits(port: type, implementation: object) -> list[str]:
    """What the implementation lacks: a method, or a parameter the port names (its extra ones need defaults)."""
    missing = []
    for name in port_methods(port):
        have = getattr(implementation, name, None)
        if have is None:
            missing.append(name)
            continue
        wanted = [p for p in inspect.signature(getattr(port, name)).parameters if p != "self"]
        given = {n: p for n, p in inspect.signature(have).parameters.items() if n != "self"}
        missing += [f"{name}({p})" for p in wanted if p not in given]
        missing += [
            f"{name}({n} without default)"
            for n, p in given.items()
            if n not in wanted and p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]
    return missing


@pytest.mark.parametrize(
    "port, implementation",
    [
        (ports.GitLab, GitLabClient),
        (ports.GitLab, InProcessGitLab),
        (ports.MrNoteWriter, MrNotes),
        (ports.MrNoteWriter, RecordingNotes),
        (ports.SlackPoster, SlackPublisher),
        (ports.SlackPoster, RecordingSlack),
    ],
    ids=lambda x: x.__name__,
)
def test_the_real_clients_and_the_fakes_fit_the_ports(port, implementation):
    assert port_methods(port) and fits(port, implementation) == []


def test_the_log_fetch_fits_its_port():
    wanted = [p for p in inspect.signature(ports.LogExcerpter.__call__).parameters if p != "self"]
    assert list(inspect.signature(excerpt_from_stream).parameters) == wanted


# --- a job against in-process fakes ----------------------------------------------------------


def seeded_gitlab() -> InProcessGitLab:
    gitlab = InProcessGitLab()
    gitlab.projects[PROJECT_ID] = {
        "id": PROJECT_ID,
        "path_with_namespace": PROJECT_PATH,
        "default_branch": "main",
        "web_url": f"https://gitlab.example.com/{PROJECT_PATH}",
    }
    gitlab.pipelines[(PROJECT_ID, 9001)] = {
        "id": 9001,
        "status": "failed",
        "ref": f"refs/merge-requests/{MR_IID}/head",
        "sha": "abc123",
        "web_url": "https://gitlab.example.com/p/9001",
    }
    gitlab.merge_requests[(PROJECT_ID, MR_IID)] = {
        "iid": MR_IID,
        "project_id": PROJECT_ID,
        "title": "Parse amounts",
        "web_url": "https://gitlab.example.com/mr/17",
    }
    gitlab.ci_jobs[(PROJECT_ID, 9001)] = [
        {"id": 90011, "name": "build", "stage": "build", "status": "success"},
        {"id": 90012, "name": "pytest", "stage": "test", "status": "failed", "failure_reason": "script_failure"},
    ]
    gitlab.logs[90012] = PYTEST_TRACE
    return gitlab


async def test_an_analysis_runs_against_in_process_fakes_and_a_vote_counts(database):
    settings = make_settings()
    services = Services.build(settings, db=database)
    services.gitlab, services.notes, services.slack = seeded_gitlab(), RecordingNotes(), RecordingSlack()
    services.router = ProviderRouter(settings, ledger=DatabaseLedger(database))
    read: list[int] = []

    async def counting_excerpt_log(chunks, **kwargs):
        read.append(1)
        return await excerpt_from_stream(chunks, **kwargs)

    services.excerpt_log = counting_excerpt_log
    try:
        payload = {"project_id": PROJECT_ID, "pipeline_id": 9001, "trigger": "webhook"}
        job = ClaimedJob(1, analyze_pipeline.KIND, payload, 1, 5, "w")
        await analyze_pipeline.run(services, job)
        [report] = services.notes.upserted
        assert (report.pipeline_id, report.mr_iid, report.status) == (9001, MR_IID, "failed")
        assert [(j.name, j.result.provider) for j in report.jobs] == [("pytest", "heuristic")]
        assert [name for name, _ in services.slack.calls] == ["start", "finish"] and read == [1]
        vote = ClaimedJob(
            2,
            slack_feedback.KIND,
            {"analysis_id": report.analysis_id, "direction": "up", "slack": {"channel": "C1", "user": "U1"}},
            1,
            5,
            "w",
        )
        await slack_feedback.run(services, vote)
        assert (await get_analysis(database, report.analysis_id)).feedback_up == 1
        assert services.slack.of("tell_user")[-1][1] == m.ACK_FEEDBACK
    finally:
        await services.router.aclose()


async def test_an_explain_asked_in_an_mr_runs_a_typed_forced_analysis_of_that_ci_job(database, monkeypatch):
    from bot.jobs import mr_note

    captured: list[AnalyzePipelinePayload] = []

    async def fake_run_analysis(services, payload):
        captured.append(payload)
        return None

    monkeypatch.setattr(mr_note, "run_analysis", fake_run_analysis)
    services = Services.build(make_settings(GITLAB_BASE_URL="https://gitlab.example.com"), db=database)
    gitlab = seeded_gitlab()
    gitlab.merge_requests[(PROJECT_ID, MR_IID)]["head_pipeline"] = {"id": 9001}
    gitlab.access[7] = 30
    services.gitlab = gitlab
    payload = {
        "project_id": PROJECT_ID,
        "mr_iid": MR_IID,
        "note_id": 5,
        "discussion_id": None,
        "user_id": 7,
        "username": "alice",
        "note": "@cicd-bot explain pytest",
    }
    await mr_note.run(services, ClaimedJob(1, mr_note.KIND, payload, 1, 5, "w"))
    [asked] = captured
    assert (asked.pipeline_id, asked.job_ids, asked.force, asked.trigger) == (9001, [90012], True, "mr_command")
    method, (_, _, body) = gitlab.posted[-1]
    assert method == "create_mr_note" and "has no failed job to analyse" in body
