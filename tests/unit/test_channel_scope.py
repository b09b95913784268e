"""What one channel may see: pattern containment (sound, checked against sampled paths), and its status counts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import channel_map as cm
from bot.core.channel_status import channel_status, job_project

SEGMENTS = st.sampled_from(["a", "b", "ab", "a*", "*b", "*", "**"])
PATTERNS = st.lists(SEGMENTS, min_size=1, max_size=4).map("/".join)
NAMES = st.sampled_from(["a", "b", "ab", "ba", "abb", "c"])
PATHS = st.lists(NAMES, min_size=2, max_size=5).map("/".join)  # a project sits at least two levels deep


@settings(max_examples=400, deadline=None)
@given(inner=PATTERNS, outer=PATTERNS, paths=st.lists(PATHS, min_size=1, max_size=30))
def test_within_is_never_wrong_when_it_says_yes(inner, outer, paths):
    if cm.pattern_within(inner, outer):
        for path in paths:
            if cm.pattern_matches(inner, path):
                assert cm.pattern_matches(outer, path), f"{path} matches {inner} but not {outer}"


@pytest.mark.parametrize(
    "inner, outer, expected",
    [
        ("group/app", "group/*", True),
        ("group/sub/app", "group/*", True),
        ("group", "group/*", True),  # no project sits at the top level
        ("group/*", "group", True),
        ("group/svc-*", "group/svc*", True),
        ("group/svc*", "group/svc-*", False),
        ("group/*", "group/app", False),
        ("**", "group/*", False),
        ("**", "*", True),
        ("group/**", "group/*", True),
        ("group/*", "group/**", True),
        ("group/**/app", "group/*", True),
        ("group/*", "group/**/app", False),  # unsure with '**' inside: says no
        ("other/app", "group/*", False),
    ],
)
def test_within_examples(inner, outer, expected):
    assert cm.pattern_within(inner, outer) is expected


def test_job_project_reads_paths_and_ids_and_nothing_else():
    assert job_project({"project_path": "g/app", "project_id": 7}) == "g/app"
    assert job_project({"project": "g/app"}) == "g/app"
    assert job_project({"project_id": 7}) == 7 and job_project({"project_id": "7"}) == 7
    assert job_project({"project_id": "g/app"}) == "g/app"
    for payload in ({}, {"project_id": True}, {"project_id": None}, {"project": ""}, {"analysis_id": 3}):
        assert job_project(payload) is None


def test_status_counts_the_channel_s_projects_and_nothing_when_it_has_none():
    rules, problems = cm.parse_channel_map(["group/*=C0AAAA1", "public/*=*"])
    assert problems == []
    jobs = [
        (9, "analyze_pipeline", "dead", {"project_id": 8}),
        (8, "analyze_pipeline", "dead", {"project_id": 7}),
        (7, "mr_note", "queued", {"project_id": 7}),
        (6, "slack_command", "running", {"project": "Group/App"}),  # paths are case-insensitive
        (5, "analyze_pipeline", "queued", {"project_id": 99}),  # unknown path: counted nowhere
        (4, "slack_followup", "queued", {"project_path": "public/docs"}),
    ]
    paths = {7: "group/app", 8: "secret/vault"}
    spend = [("group/app", 0.5, 2), ("secret/vault", 9.0, 1), (None, 1.0, 1), ("group/lib", 0.25, 1)]
    status = channel_status("C0AAAA1", rules, jobs, paths, spend)
    assert (status.queued, status.running, status.dead, status.dead_jobs) == (1, 1, 1, [(8, "analyze_pipeline")])
    assert (status.cost, status.calls) == (0.75, 3)
    assert channel_status("C0ZZZZ9", rules, jobs, paths, spend) is None
    subscribed = rules + cm.subscription_rules([("C0ZZZZ9", "public/docs")])
    status = channel_status("C0ZZZZ9", subscribed, jobs, paths, spend)
    assert (status.queued, status.running, status.dead, status.cost) == (1, 0, 0, 0.0)
