"""Pure rules about GitLab pipelines, jobs, refs, hook payloads and pipeline references."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

# Statuses after which a pipeline or job will not change by itself.
FINISHED_STATUSES = frozenset({"success", "failed", "canceled", "skipped", "manual"})

# GitLab runs merge request pipelines on these refs; the middle part is the MR iid.
_MR_REF = re.compile(r"^refs/merge-requests/(\d{1,12})/(?:head|merge|train)$")

# A project path: namespaces and a project name, GitLab's allowed characters only.
_PATH_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
_PROJECT_PATH = re.compile(rf"^{_PATH_SEGMENT}(?:/{_PATH_SEGMENT})+$")
_SHORT_REFERENCE = re.compile(rf"^(?P<path>{_PATH_SEGMENT}(?:/{_PATH_SEGMENT})+)(?P<sigil>[#!])(?P<num>\d{{1,12}})$")
_BARE_PIPELINE = re.compile(r"^#?(?P<num>\d{1,12})$")
# What follows the project path in a web URL, after the optional "/-" separator.
_URL_TAIL = re.compile(r"^(?P<kind>pipelines|jobs|merge_requests)/(?P<num>\d{1,12})(?:/.*)?$")

MAX_TEST_TEXT = 2000  # characters kept of one failed test's output or stack trace


@dataclass(frozen=True, slots=True)
class Reference:
    """A pipeline, job or merge request someone pointed at, e.g. in `/cicd explain`."""

    kind: str  # "pipeline" | "job" | "merge_request"
    number: int  # pipeline id, job id or MR iid
    project_path: str = ""  # empty when only a bare pipeline id was given

    @property
    def pipeline_id(self) -> int | None:
        return self.number if self.kind == "pipeline" else None

    @property
    def job_id(self) -> int | None:
        return self.number if self.kind == "job" else None

    @property
    def mr_iid(self) -> int | None:
        return self.number if self.kind == "merge_request" else None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _jobs_only(ci_jobs: Iterable[Any]) -> list[dict]:
    """Drop entries that are not CI job objects with a name and an integer id."""
    return [
        j
        for j in ci_jobs
        if isinstance(j, dict) and isinstance(j.get("name"), str) and _as_int(j.get("id")) is not None
    ]


def latest_attempts(ci_jobs: Iterable[Any]) -> list[dict]:
    """One CI job per name: its latest attempt, in the order the CI jobs were given.

    GitLab marks superseded attempts `retried: true` when listing with include_retried;
    not every endpoint or version sends the flag, so the highest id per name decides otherwise.
    """
    valid = _jobs_only(ci_jobs)
    best: dict[str, dict] = {}
    for ci_job in valid:
        name = ci_job["name"]
        current = best.get(name)
        if current is None or _newer(ci_job, current):
            best[name] = ci_job
    chosen = {id(j) for j in best.values()}
    return [j for j in valid if id(j) in chosen]


def _newer(ci_job: dict, than: dict) -> bool:
    # A CI job not marked retried beats one that is; otherwise the later id wins.
    ci_job_retried, than_retried = bool(ci_job.get("retried")), bool(than.get("retried"))
    if ci_job_retried != than_retried:
        return not ci_job_retried
    return _as_int(ci_job["id"]) > _as_int(than["id"])  # type: ignore[operator]


def failed_jobs(ci_jobs: Iterable[Any], analyze_allowed_failures: bool = False) -> tuple[list[dict], list[dict]]:
    """(CI jobs to analyse, failed CI jobs that were allowed to fail), latest attempts only.

    CI jobs skipped, canceled or left manual because an earlier stage failed have another
    status than "failed" and so are not failures of their own.
    """
    to_analyze: list[dict] = []
    allowed: list[dict] = []
    for ci_job in latest_attempts(ci_jobs):
        if ci_job.get("status") != "failed":
            continue
        if ci_job.get("allow_failure") is True and not analyze_allowed_failures:
            allowed.append(ci_job)
        else:
            to_analyze.append(ci_job)
    return to_analyze, allowed


def was_flaky(jobs_at_same_sha: Iterable[Any], job_name: str) -> bool:
    """True when the CI job failed and a later attempt at the same commit passed."""
    attempts = sorted(
        (j for j in _jobs_only(jobs_at_same_sha) if j["name"] == job_name),
        key=lambda j: _as_int(j["id"]),  # type: ignore[arg-type,return-value]
    )
    seen_failure = False
    for ci_job in attempts:
        status = ci_job.get("status")
        if status == "failed":
            seen_failure = True
        elif status == "success" and seen_failure:
            return True
    return False


def mr_iid_from_ref(ref: str | None) -> int | None:
    """The MR iid of a merge request pipeline ref (refs/merge-requests/<iid>/head|merge|train)."""
    if not isinstance(ref, str):
        return None
    match = _MR_REF.match(ref)
    return int(match.group(1)) if match else None


def is_finished(status: str | None) -> bool:
    return status in FINISHED_STATUSES


def pipeline_job_rows(ci_jobs: Iterable[Any]) -> list[dict]:
    """The short CI job table a model and the renderers are shown: name, stage, status, allow_failure, retried."""
    rows = []
    latest = {id(j) for j in latest_attempts(ci_jobs)}
    for ci_job in _jobs_only(ci_jobs):
        rows.append(
            {
                "name": ci_job["name"],
                "stage": str(ci_job.get("stage") or ""),
                "status": str(ci_job.get("status") or ""),
                "allow_failure": ci_job.get("allow_failure") is True,
                "retried": id(ci_job) not in latest,
            }
        )
    return rows


def _strip_slack_link(text: str) -> str:
    # Slack sends links as <url> or <url|label>.
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].split("|", 1)[0]
    return text.strip()


def parse_pipeline_reference(text: str, gitlab_base_url: str) -> Reference | None:
    """Read "group/project#123", "group/project!17", "#123", or a pipeline, job or MR URL on our GitLab.

    URLs on any other host are refused (None): the bot only follows links to the GitLab it serves.
    """
    if not isinstance(text, str) or len(text) > 2048:
        return None
    text = _strip_slack_link(text)
    short = _SHORT_REFERENCE.match(text)
    if short:
        kind = "pipeline" if short.group("sigil") == "#" else "merge_request"
        return Reference(kind, int(short.group("num")), short.group("path"))
    bare = _BARE_PIPELINE.match(text)
    if bare:
        return Reference("pipeline", int(bare.group("num")))
    return _parse_url(text, gitlab_base_url)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _parse_url(text: str, gitlab_base_url: str) -> Reference | None:
    text = text.rstrip(".,;:!?")  # the end of the sentence the link was typed in, not part of it
    try:
        url = urlsplit(text)
        base = urlsplit(gitlab_base_url.rstrip("/"))
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.hostname or not base.hostname:
        return None
    try:  # the base's own port written out (`https://host:443/`) is the same server; a pasted http link too
        default = _DEFAULT_PORTS.get(base.scheme)
        ports = (url.port or default, base.port or default)
    except ValueError:
        return None  # a port that is not a number or out of range
    if url.hostname.lower() != base.hostname.lower() or ports[0] != ports[1] or url.username or url.password:
        return None
    path = unquote(url.path)
    prefix = base.path.rstrip("/") + "/"
    if not path.startswith(prefix):
        return None
    rest = path[len(prefix) :]
    if "/-/" in rest:
        project, _, tail = rest.partition("/-/")
    else:
        # Old-style URLs have no "/-/" separator: the project path is what precedes the kind.
        match = re.match(r"^(?P<project>.+?)/(?P<tail>(?:pipelines|jobs|merge_requests)/\d.*)$", rest)
        if not match:
            return None
        project, tail = match.group("project"), match.group("tail")
    if not _PROJECT_PATH.match(project) or ".." in project:
        return None
    found = _URL_TAIL.match(tail)
    if not found:
        return None
    kind = {"pipelines": "pipeline", "jobs": "job", "merge_requests": "merge_request"}[found.group("kind")]
    return Reference(kind, int(found.group("num")), project)


def changed_paths(diffs: Iterable[Any], limit: int) -> list[str]:
    """New paths (old path for deletions) of an MR's diffs, deduplicated, at most `limit`."""
    out: list[str] = []
    for diff in diffs:
        if len(out) >= limit:
            break
        if not isinstance(diff, dict):
            continue
        path = diff.get("old_path") if diff.get("deleted_file") is True else diff.get("new_path")
        if isinstance(path, str) and path and path not in out:
            out.append(path)
    return out


def _clip(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        return ""
    return value if len(value) <= limit else value[:limit] + "…"


def failed_test_cases(report: Any, limit: int = 50) -> list[dict]:
    """Failed and errored cases of a pipeline test report, outputs clipped, at most `limit`."""
    out: list[dict] = []
    if not isinstance(report, dict) or not isinstance(report.get("test_suites"), list):
        return out
    for suite in report["test_suites"]:
        if not isinstance(suite, dict) or not isinstance(suite.get("test_cases"), list):
            continue
        for case in suite["test_cases"]:
            if len(out) >= limit:
                return out
            if not isinstance(case, dict) or case.get("status") not in ("failed", "error"):
                continue
            out.append(
                {
                    "suite": str(suite.get("name") or ""),
                    "name": str(case.get("name") or ""),
                    "classname": str(case.get("classname") or ""),
                    "file": str(case.get("file") or ""),
                    "status": case["status"],
                    "execution_time": case.get("execution_time")
                    if isinstance(case.get("execution_time"), (int, float))
                    else None,
                    "system_output": _clip(case.get("system_output"), MAX_TEST_TEXT),
                    "stack_trace": _clip(case.get("stack_trace"), MAX_TEST_TEXT),
                }
            )
    return out
