"""Whether a GitLab user is a bot, as GitLab flags it (`bot` on GET /users/:id), remembered per process for a while."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.clients.gitlab_errors import GitLabNotFound
from bot.clients.ports import GitLab

log = logging.getLogger(__name__)

# A user's type is fixed when the account is made; the time limit only lets a deleted or re-typed account
# be asked about again, and keeps a busy MR from spending GitLab's per-user rate limit on GET /users/:id.
TTL_SECONDS = 3600.0
MAX_USERS = 4096


@dataclass
class BotFlags:
    """user id -> (is a bot, monotonic expiry); shared by the jobs of one process."""

    ttl_seconds: float = TTL_SECONDS
    max_users: int = MAX_USERS
    clock: Callable[[], float] = time.monotonic
    _known: dict[int, tuple[bool, float]] = field(default_factory=dict)

    async def is_bot(self, gitlab: GitLab, user_id: int) -> bool:
        """GitLab's `bot` flag (project and group access tokens, service accounts, GitLab's own bots). A user GitLab
        does not show the bot (deleted, blocked) counts as one: nobody the bot cannot see gets a model call."""
        now = self.clock()
        hit = self._known.get(user_id)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            flag = (await gitlab.get_user(user_id)).get("bot") is True
        except GitLabNotFound:
            log.info("GitLab does not show user %s; treated as a bot", user_id)
            flag = True
        self._remember(user_id, flag, now)
        return flag

    def _remember(self, user_id: int, flag: bool, now: float) -> None:
        if len(self._known) >= self.max_users:
            for key in [k for k, (_, expiry) in self._known.items() if expiry <= now]:
                del self._known[key]
        while self._known and len(self._known) >= self.max_users:
            del self._known[next(iter(self._known))]  # the oldest entry: dicts keep insertion order
        self._known.pop(user_id, None)
        self._known[user_id] = (flag, now + self.ttl_seconds)
