"""The one MR note per merge request: found by its marker, edited in place, recorded as a delivery."""

from __future__ import annotations

import hashlib
import logging

from bot.clients.gitlab import BotIdentity, GitLabClient, resolve_identity
from bot.clients.gitlab_errors import GitLabNotFound
from bot.core.outcomes import RetryLater
from bot.core.render.mr_note import find_marker, render_mr_note
from bot.core.report_codec import report_to_dict
from bot.core.types import PipelineReport
from storage.db import Database
from storage.deliveries import get_delivery, save_delivery
from storage.locks import named_lock

log = logging.getLogger(__name__)


def _own_note(notes: list[dict], project_path: str, iid: int, bot_username: str) -> dict | None:
    """The bot's note on this MR: our marker at the very start, written by the bot user."""
    for note in notes:
        body = note.get("body") if isinstance(note, dict) else None
        author = note.get("author") if isinstance(note, dict) and isinstance(note.get("author"), dict) else {}
        marker = find_marker(body) if isinstance(body, str) else None
        if (
            marker
            and marker["project"] == project_path
            and marker["mr"] == iid
            and str(author.get("username", "")).lower() == bot_username.lower()
        ):
            return note
    return None


def mr_delivery_key(project_id: int, mr_iid: int) -> str:
    return f"mr:{project_id}:{mr_iid}"


def commit_delivery_key(project_id: int, pipeline_id: int) -> str:
    return f"commit:{project_id}:{pipeline_id}"


def content_hash(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


class MrNotes:
    """Writes the bot's MR notes and commit comments; one note per MR, found again by its marker."""

    def __init__(
        self, gitlab: GitLabClient, db: Database, identity: BotIdentity, *, base_url: str, configured_username: str = ""
    ):
        self.gitlab = gitlab
        self.db = db
        self.identity = identity
        self.base_url = base_url
        self.configured_username = configured_username

    async def _known_bot_username(self) -> str:
        """Adopting a note by its marker needs to know it is ours; ask GitLab again if start-up could not."""
        if self.identity.user_id is None:
            await resolve_identity(self.gitlab, self.identity, self.configured_username)
            if self.identity.user_id is None:
                raise RetryLater("GitLab did not say who the bot user is; the note cannot be found safely yet")
        return self.identity.username

    async def upsert(self, report: PipelineReport) -> dict | None:
        """Create or edit the bot's note on the MR; returns {"id", "url", "changed"}."""
        gl = self.gitlab
        if report.mr_iid is None or report.project_id is None:
            return None
        project_id, iid = report.project_id, report.mr_iid
        key = mr_delivery_key(project_id, iid)
        body = render_mr_note(report, self.base_url)
        digest = content_hash(body)
        bot_username = await self._known_bot_username()
        # One replica at a time per MR, so two pipelines finishing together cannot both create a note.
        async with named_lock(self.db, key):
            delivery = await get_delivery(self.db, key)
            if delivery is not None and delivery.pipeline_id and report.pipeline_id < delivery.pipeline_id:
                # A slow older pipeline must not replace the report of a newer one.
                log.info(
                    "note shows pipeline %s; not replacing it with older %s", delivery.pipeline_id, report.pipeline_id
                )
                return None
            note_id = delivery.note_id if delivery else None
            changed = True
            if note_id is not None:
                if delivery.content_hash == digest:
                    changed = False
                else:
                    try:
                        await gl.update_mr_note(project_id, iid, note_id, body)
                    except GitLabNotFound:
                        note_id = None  # someone deleted it; find or post again
            if note_id is None:
                # After a crash between posting and recording, the marker finds the note we already posted.
                notes = await gl.list_mr_notes(project_id, iid)
                found = _own_note(notes, report.project_path, iid, bot_username)
                if found is not None:
                    note_id = int(found["id"])
                    if found.get("body") != body:
                        await gl.update_mr_note(project_id, iid, note_id, body)
                    else:
                        changed = False
                else:
                    created = await gl.create_mr_note(project_id, iid, body)
                    note_id = int(created["id"])
            await save_delivery(
                self.db,
                key,
                target="gitlab_mr_note",
                project_id=project_id,
                pipeline_id=report.pipeline_id,
                mr_iid=iid,
                note_id=note_id,
                content_hash=digest,
                analysis_id=report.analysis_id,
                report=report_to_dict(report),
            )
        url = f"{report.mr_url}#note_{note_id}" if report.mr_url else ""
        return {"id": note_id, "url": url, "changed": changed}

    async def post_commit_comment(self, report: PipelineReport) -> None:
        """For pipelines without an MR when GITLAB_COMMENT_ON=mr_and_commit; once per pipeline."""
        if report.project_id is None or not report.sha:
            return
        key = commit_delivery_key(report.project_id, report.pipeline_id)
        async with named_lock(self.db, key):
            if await get_delivery(self.db, key) is not None:
                return
            body = render_mr_note(report, self.base_url)
            await self.gitlab.create_commit_comment(report.project_id, report.sha, body)
            await save_delivery(
                self.db,
                key,
                target="gitlab_commit_comment",
                project_id=report.project_id,
                pipeline_id=report.pipeline_id,
                content_hash=content_hash(body),
                report=report_to_dict(report),
            )
