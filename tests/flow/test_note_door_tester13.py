"""The GitLab door and MR notes that quote the bot or show its commands as code: no job, no model call."""

from __future__ import annotations

import copy

from storage.models import QueueJob, ReceivedEvent
from tests.flow.test_webhooks import SECRET, hook_headers, post, rows
from tests.helpers import gitlab_payload, running_app


def note(note_id: int, text: str) -> dict:
    payload = copy.deepcopy(gitlab_payload("note_hook"))
    payload["object_attributes"]["id"] = note_id
    payload["object_attributes"]["note"] = text
    return payload


async def test_a_note_showing_or_quoting_a_command_is_not_answered_and_one_asking_is(database):
    notes = [
        note(401, "For next time: `@cicd-bot reanalyze with anthropic` asks another model."),
        note(402, "> @cicd-bot reanalyze\n\nThat did not help, @alice can you look?"),
        note(403, "The commands are:\n```\n@cicd-bot help\n```"),
        note(404, "> It failed on lint\n\n@cicd-bot why did lint fail?"),
    ]
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET, GITLAB_BOT_USERNAME="cicd-bot") as (_, client, url):
        for payload in notes:
            key = f"note-{payload['object_attributes']['id']}"
            assert (await post(client, url, payload, hook_headers("Note Hook", key=key)))[0] == 200
    jobs = await rows(database, QueueJob)
    assert [(j.kind, j.payload["note_id"]) for j in jobs] == [("mr_note", 404)]
    assert [e.outcome for e in await rows(database, ReceivedEvent)] == ["enqueued"]
