"""The GitLab calls of set-up and `doctor`: the version, the token's own details, roles, groups and webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

from bot.clients.gitlab import GitLabClient
from bot.clients.gitlab_errors import GitLabNotFound, project_ref

if TYPE_CHECKING:
    from config.settings import Settings

MAX_HOOKS = 500
# Doctor and `webhook` commands are run by a person who waits: one retry at most, a short bound.
ADMIN_ATTEMPTS = 2
ADMIN_RETRY_SECONDS = 10.0


@dataclass(frozen=True)
class Scope:
    """A group or a project, by path or id, as people name them in GITLAB_GROUPS / GITLAB_PROJECTS or --group."""

    kind: str  # group | project
    ref: str

    @property
    def api_path(self) -> str:
        return f"/{self.kind}s/{project_ref(self.ref)}"

    def __str__(self) -> str:
        return f"{self.kind} {self.ref}"


def configured_scopes(settings: Settings) -> list[Scope]:
    """GITLAB_GROUPS, then GITLAB_PROJECTS: the groups and projects the bot serves."""
    return [Scope("group", ref) for ref in settings.gitlab_groups] + [
        Scope("project", ref) for ref in settings.gitlab_projects
    ]


class GitLabAdmin(GitLabClient):
    """GitLabClient plus the calls that read or change the set-up rather than pipelines."""

    @classmethod
    def from_settings(cls, settings: Settings, session: aiohttp.ClientSession) -> GitLabAdmin:
        token = settings.gitlab_api_token.get_secret_value() if settings.gitlab_api_token else ""
        return cls(
            session,
            settings.gitlab_base_url,
            token,
            timeout=min(settings.gitlab_timeout_seconds, 15),
            max_attempts=ADMIN_ATTEMPTS,
            retry_max_seconds=ADMIN_RETRY_SECONDS,
        )

    async def version(self) -> dict:
        """GET /version: {"version": "17.5.1-ee", "revision": ...}."""
        return await self._get_object("/version")

    async def token_self(self) -> dict:
        """The token in use: scopes, expires_at, active, revoked (personal, group and project access tokens)."""
        return await self._get_object("/personal_access_tokens/self")

    async def get_scope(self, scope: Scope) -> dict:
        """The group or project itself; raises GitLabNotFound when it does not exist or the token cannot see it."""
        params = {"with_projects": "false"} if scope.kind == "group" else {}
        return await self._get_object(scope.api_path, params)

    async def access_level(self, scope: Scope, user_id: int) -> int:
        """The user's effective role there, inherited ones included; 0 when not a member."""
        try:
            member = await self._get_object(f"{scope.api_path}/members/all/{int(user_id)}")
        except GitLabNotFound:
            return 0
        level = member.get("access_level")
        return level if isinstance(level, int) and not isinstance(level, bool) else 0

    async def list_hooks(self, scope: Scope) -> list[dict]:
        return await self._get_list(f"{scope.api_path}/hooks", limit=MAX_HOOKS)

    async def create_hook(self, scope: Scope, fields: dict) -> dict:
        return await self._send("POST", f"{scope.api_path}/hooks", fields)

    async def update_hook(self, scope: Scope, hook_id: int, fields: dict) -> dict:
        return await self._send("PUT", f"{scope.api_path}/hooks/{int(hook_id)}", fields)
