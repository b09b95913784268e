"""What the Slack jobs share: the publisher, Slack's errors as job outcomes, and who may act on a project."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.clients.gitlab_errors import GitLabError, GitLabNotFound, GitLabUnavailable
from bot.clients.ports import SlackPoster
from bot.core import slack_commands as texts
from bot.core.outcomes import PermanentFailure, RetryLater
from bot.runtime.services import Services
from storage.slack import linked_gitlab_user

PREFERENCE_SCOPE = "slack_channel"
PREFERENCE_PROVIDER = "provider"
# Slack errors that another attempt cannot fix.
PERMANENT_SLACK_ERRORS = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "missing_scope",
    "thread_not_found",
    "msg_too_long",
    "invalid_blocks",
}


def publisher(services: Services) -> SlackPoster:
    """The process's Slack publisher; a Slack job in a process without Slack settings cannot run at all."""
    if services.slack is None:
        raise PermanentFailure("Slack is not configured in this process (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)")
    return services.slack


def slack_failure(exc: SlackApiError) -> Exception:
    """A Slack error as the job's outcome: dead-letter what another attempt cannot fix, else retry."""
    error = str(exc.response.get("error") or "") if exc.response is not None else ""
    if error in PERMANENT_SLACK_ERRORS:
        return PermanentFailure(f"Slack refused: {error}")
    return RetryLater(f"Slack call failed: {error or exc}")


async def refusal_for_user(services: Services, user: str, project: str) -> str:
    """'' when the Slack user may act on the project; else the refusal to show (SLACK_REQUIRE_GITLAB_LINK)."""
    if not services.settings.slack_require_gitlab_link:
        return ""
    link = await linked_gitlab_user(services.db, user)
    if link is None:
        return texts.REFUSAL_NOT_LINKED
    gitlab = services.gitlab
    if gitlab is None:
        raise PermanentFailure("SLACK_REQUIRE_GITLAB_LINK needs GITLAB_API_TOKEN to check access")
    try:
        level = await gitlab.get_member_access_level(project, int(link.gitlab_user_id))
    except GitLabNotFound:
        level = 0
    except GitLabUnavailable as exc:
        raise RetryLater(str(exc)) from exc
    except GitLabError as exc:
        raise PermanentFailure(f"could not check access: {exc}") from exc
    if level < services.settings.gitlab_min_access_level:
        return texts.REFUSAL_NO_ACCESS.format(username=link.gitlab_username, project=project)
    return ""
