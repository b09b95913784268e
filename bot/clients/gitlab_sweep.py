"""The GitLab reads of the reconciliation sweep, one request each: a group's projects, failed pipelines, webhooks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from bot.clients.gitlab_errors import project_ref

PER_PAGE = 100


class PageReader(Protocol):
    """What the sweep needs of the GitLab client (bot.clients.gitlab.GitLabClient.get_page)."""

    async def get_page(self, path: str, params: dict[str, str]) -> list[dict]: ...


def gitlab_time(value: object) -> datetime | None:
    """A timestamp as GitLab writes it (ISO 8601, often with Z), or None when absent or unreadable."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def group_projects(gl: PageReader, group: int | str, page: int) -> list[dict]:
    """One page of the group's own projects and its subgroups', oldest id first (archived ones left out)."""
    params = {
        "include_subgroups": "true",
        "with_shared": "false",
        "archived": "false",
        "simple": "true",
        "order_by": "id",
        "sort": "asc",
        "per_page": str(PER_PAGE),
        "page": str(page),
    }
    return await gl.get_page(f"/groups/{project_ref(group)}/projects", params)


async def failed_pipelines(gl: PageReader, project: int | str, updated_after: datetime, page: int) -> list[dict]:
    """One page of the project's failed pipelines updated after the time, least recently updated first (a
    pipeline that changes while the sweep pages moves to the end, where a later page still finds it)."""
    params = {
        "status": "failed",
        "updated_after": _iso(updated_after),
        "order_by": "updated_at",
        "sort": "asc",
        "per_page": str(PER_PAGE),
        "page": str(page),
    }
    return await gl.get_page(f"/projects/{project_ref(project)}/pipelines", params)


async def hooks(gl: PageReader, kind: str, ref: int | str) -> list[dict]:
    """The webhooks of a group or a project (GET /groups/:id/hooks needs the Owner role; /projects/:id/hooks
    Maintainer); their alert_status says whether GitLab still delivers through them."""
    where = "groups" if kind == "group" else "projects"
    return await gl.get_page(f"/{where}/{project_ref(ref)}/hooks", {"per_page": str(PER_PAGE), "page": "1"})
