"""Pure rules of the GitLab door: authentication, reading the body, and routing, with recorded payloads."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.webhook_auth import AuthResult, authenticate, authenticate_headers, sign
from bot.jobs.analyze_pipeline import KIND as ANALYZE_PIPELINE
from bot.jobs.mr_note import KIND as MR_NOTE
from bot.jobs.pipeline_passed import KIND as PIPELINE_PASSED
from handlers.gitlab_routing import is_own_note, mentions, route
from handlers.gitlab_webhooks import BadPayload, parse_json_object
from tests.helpers import gitlab_payload

NOW = 1_700_000_000


def auth(headers, body=b"{}", secret=None, signing=None, unsigned=False):
    return authenticate(headers, body, secret=secret, signing_token=signing, allow_unsigned=unsigned, now=NOW)


def signed(token, body=b"{}", ts=NOW, webhook_id="m1", extra=""):
    sig = sign(token, webhook_id, str(ts), body)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(ts), "webhook-signature": (extra + " " + sig).strip()}


def test_token_auth_fails_closed():
    assert auth({}, secret=None) is AuthResult.not_configured
    assert auth({}, unsigned=True) is AuthResult.unsigned_allowed
    assert auth({"x-gitlab-token": "a"}, secret="a") is AuthResult.ok
    assert auth({"x-gitlab-token": "b"}, secret="a") is AuthResult.bad_token
    assert auth({}, secret="a") is AuthResult.missing_token


def test_signatures_rotation_window_and_tampering():
    token = "whsec_c2VjcmV0LWtleS1ieXRlcw=="
    assert auth(signed(token), signing=token) is AuthResult.ok
    assert auth(signed(token, extra="v1,AAAA"), signing=token) is AuthResult.ok, "one of several signatures matches"
    assert auth(signed(token), body=b'{"x":1}', signing=token) is AuthResult.bad_signature
    assert auth(signed(token, ts=NOW - 301), signing=token) is AuthResult.stale_signature
    assert auth(signed(token, ts=NOW + 301), signing=token) is AuthResult.stale_signature
    assert auth({**signed(token), "webhook-timestamp": "soon"}, signing=token) is AuthResult.bad_signature
    assert auth(signed("whsec_other"), signing=token) is AuthResult.bad_signature
    assert auth({"x-gitlab-token": "a"}, secret="a", signing=token) is AuthResult.ok, "the plain token still works"
    assert auth({}, signing=token) is AuthResult.missing_signature


def headers_decide(headers, secret=None, signing=None, unsigned=False):
    return authenticate_headers(headers, secret=secret, signing_token=signing, allow_unsigned=unsigned, now=NOW)


def test_the_headers_decide_everything_but_a_well_formed_signature():
    token = "whsec_c2VjcmV0LWtleS1ieXRlcw=="
    assert headers_decide({"x-gitlab-token": "a"}, secret="a") is AuthResult.ok
    assert headers_decide({"x-gitlab-token": "b"}, secret="a") is AuthResult.bad_token
    assert headers_decide({}, secret="a", signing=token) is AuthResult.missing_signature
    assert headers_decide({}, signing=token) is AuthResult.missing_signature
    assert headers_decide({}) is AuthResult.not_configured
    assert headers_decide(signed(token, ts=NOW - 301), signing=token) is AuthResult.stale_signature
    assert headers_decide(signed(token), signing=token) is None, "only the body can tell"


def test_malformed_signature_timestamps_are_refused_not_raised():
    token = "whsec_c2VjcmV0LWtleS1ieXRlcw=="
    for bad in ("abc", "1e3", " 1700000000", "+1700000000", "-5", "1700000000.5", "9" * 5000, "١٧٠٠٠٠٠٠٠٠"):
        headers = {**signed(token), "webhook-timestamp": bad}
        assert auth(headers, signing=token) is AuthResult.bad_signature, bad
        assert headers_decide(headers, signing=token) is AuthResult.bad_signature, bad


def test_pipeline_job_and_note_routing():
    pipe = gitlab_payload("pipeline_hook")
    routed = route("Pipeline Hook", pipe, {"idempotency-key": "k"}, b"{}", "cicd-bot")
    assert [j.kind for j in routed.jobs] == [ANALYZE_PIPELINE] and routed.delivery_key == "gitlab:idem:k"
    ok = copy.deepcopy(pipe)
    ok["object_attributes"]["status"] = "success"
    assert [j.kind for j in route("Pipeline Hook", ok, {}, b"{}", "cicd-bot").jobs] == [PIPELINE_PASSED]
    job = gitlab_payload("job_hook")
    job.update(build_status="failed", build_allow_failure=True)
    assert route("Job Hook", job, {}, b"{}", "cicd-bot").ignored_reason == "job allowed to fail"
    job["build_allow_failure"] = False
    spec = route("Job Hook", job, {}, b"{}", "cicd-bot").jobs[0]
    assert spec.delay_seconds > 0 and spec.dedupe_key == f"pipeline:{job['project_id']}:{job['pipeline_id']}:failed"
    job["build_allow_failure"] = "false"  # a proxy or a test harness that sends it as text: not allowed to fail
    assert route("Job Hook", job, {}, b"{}", "cicd-bot").jobs
    note = gitlab_payload("note_hook")
    assert [j.kind for j in route("Note Hook", note, {}, b"{}", "cicd-bot").jobs] == [MR_NOTE]
    assert route("Note Hook", note, {}, b"{}", "other-bot").ignored_reason == "bot not mentioned"
    edited = copy.deepcopy(note)
    edited["object_attributes"]["action"] = "update"  # GitLab 16.11+ sends edits as Note Hooks too
    assert route("Note Hook", edited, {}, b"{}", "cicd-bot").ignored_reason == "note edited"
    edited["object_attributes"]["action"] = "create"
    assert [j.kind for j in route("Note Hook", edited, {}, b"{}", "cicd-bot").jobs] == [MR_NOTE]


def test_uuid_fallback_key_distinguishes_objects_and_statuses():
    pipe = gitlab_payload("pipeline_hook")
    failed = route("Pipeline Hook", pipe, {"x-gitlab-event-uuid": "u"}, b"{}", "b").delivery_key
    ok = copy.deepcopy(pipe)
    ok["object_attributes"]["status"] = "success"
    assert failed != route("Pipeline Hook", ok, {"x-gitlab-event-uuid": "u"}, b"{}", "b").delivery_key


def test_mentions_and_bots():
    assert mentions("@cicd-bot why?", "cicd-bot") and mentions("hey @CICD-bot", "cicd-bot")
    assert not mentions("@cicd-bot2 why", "cicd-bot") and not mentions("mail@cicd-bot.io", "cicd-bot")
    assert is_own_note("cicd-bot", "cicd-bot") and is_own_note("CICD-Bot", "cicd-bot")
    # A name says nothing about being a bot: the mr_note job asks GitLab for the `bot` flag instead.
    for other in ("project_42_bot_3f2a", "renovate-bot", "x-bot", "robot", "alice", ""):
        assert not is_own_note(other, "cicd-bot")


def test_notes_by_other_bot_looking_names_reach_the_job_and_the_bots_own_do_not():
    note = gitlab_payload("note_hook")
    for name in ("renovate-bot", "project_42_bot_3f2a", "robot-jane"):
        note["user"]["username"] = name
        assert [j.kind for j in route("Note Hook", note, {}, b"{}", "cicd-bot").jobs] == [MR_NOTE]
    note["user"]["username"] = "cicd-bot"
    routed = route("Note Hook", note, {}, b"{}", "cicd-bot")
    assert routed.jobs == [] and routed.ignored_reason == "note by the bot itself"


def test_a_failed_child_pipeline_is_analysed_with_its_parent():
    pipe = gitlab_payload("pipeline_hook")
    project_id = pipe["project"]["id"]
    pipe["object_attributes"]["source"] = "parent_pipeline"
    pipe["source_pipeline"] = {"project": {"id": project_id}, "pipeline_id": 777, "job_id": 1}
    routed = route("Pipeline Hook", pipe, {}, b"{}", "b")
    assert routed.jobs[0].payload["pipeline_id"] == 777
    assert routed.jobs[0].dedupe_key == f"pipeline:{project_id}:777:failed"
    pipe["object_attributes"]["status"] = "success"
    assert route("Pipeline Hook", pipe, {}, b"{}", "b").jobs == []


def test_ids_gitlab_never_sends_enqueue_nothing():
    """GitLab's ids are positive 64-bit integers: anything else would only fail in the job, attempt after attempt."""
    for bad in (-5, 0, 2**63, "12abc", None):
        pipe = gitlab_payload("pipeline_hook")
        pipe["object_attributes"]["id"] = bad
        assert route("Pipeline Hook", pipe, {}, b"{}", "cicd-bot").jobs == [], bad


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.just("0" * 40),  # a sha of zeros: a long digit run inside a string
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=25,
)


@given(st.dictionaries(st.text(max_size=8), _JSON, max_size=6), st.booleans())
@settings(max_examples=300, deadline=None)
def test_the_door_reads_a_body_as_the_standard_parser_does(payload: dict, indent: bool) -> None:
    """The fast parser must give what json.loads gives, integers beyond 64 bits included (ids are checked as ints)."""
    body = json.dumps(payload, indent=2 if indent else None).encode()
    parsed = parse_json_object(body)
    assert parsed == json.loads(body)
    assert repr(parsed) == repr(json.loads(body)), "the same types (an int stays an int)"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"\xff{}", "not valid UTF-8"),
        (b"[1]", "not an object"),
        (b"{", "not JSON"),
        (b'{"a":' * 70 + b"1" + b"}" * 70, "nested too deeply"),
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "nested too deeply"),
    ],
)
def test_bodies_the_door_refuses_say_why(body: bytes, problem: str) -> None:
    with pytest.raises(BadPayload, match=problem):
        parse_json_object(body)
    assert parse_json_object(b'{"a":' * 63 + b"1" + b"}" * 63)["a"], "63 levels are fine"


@pytest.mark.parametrize(
    "number",
    [-(2**63) - 1, -9_300_000_000_000_000_000, -(10**19) + 1, 2**64, 10**25, -(10**30), -(2**63), 2**64 - 1],
)
def test_an_integer_beyond_what_orjson_keeps_stays_an_integer(number: int) -> None:
    """orjson keeps -2**63 .. 2**64 - 1 as integers; beyond, the door must still read an integer (hypothesis found
    a 19-digit negative read as a float)."""
    for body in (f'{{"id": {number}}}', f'{{"ids":[1, {number}]}}', f'{{"a":{{"b":\n  {number}}}}}'):
        parsed = parse_json_object(body.encode())
        assert parsed == json.loads(body) and "float" not in repr(type(next(iter(parsed.values()))))
        assert repr(parsed) == repr(json.loads(body))
