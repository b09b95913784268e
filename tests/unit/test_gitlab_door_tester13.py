"""The GitLab door's reading of a delivery: who a note addresses (not a mention quoted or shown as code), and ids."""

from __future__ import annotations

import json

import pytest

from bot.core.followup import MrCommand, parse_mr_command
from handlers.gitlab_routing import mentions, route
from tests.helpers import gitlab_payload

BOT = "cicd-bot"


@pytest.mark.parametrize(
    "note",
    [
        "@cicd-bot why did integration-tests fail?",
        "Thanks! @CICD-Bot reanalyze with anthropic",
        "> earlier: it failed\n\n@cicd-bot explain lint",
        "`make test` fails here, @cicd-bot why?",
        "```\nError: boom\n```\n@cicd-bot what does this mean?",
        "@cicd-bot's answer was wrong, @cicd-bot reanalyze",
        # Windows' line breaks after a fence (found by review): the fence closes, the mention below it counts
        "```\r\nERROR x\r\n```\r\n@cicd-bot reanalyze",
    ],
)
def test_a_note_that_addresses_the_bot_summons_it(note):
    assert mentions(note, BOT)


@pytest.mark.parametrize(
    "note",
    [
        "Use `@cicd-bot reanalyze with anthropic` to ask again.",
        "Type ``@cicd-bot help`` to see the commands.",
        "Its commands:\n```\n@cicd-bot reanalyze\n@cicd-bot explain <job>\n```\nSee the README.",
        "~~~markdown\n@cicd-bot help\n~~~",
        "> @cicd-bot reanalyze\n\nI tried that and nothing changed, @alice can you look?",
        "  >> @cicd-bot help\nquoted twice",
        ">>>\nAs the bot said: @cicd-bot explain lint\n>>>\nok",
        ">>>\r\nAs the bot said: @cicd-bot explain lint\r\n>>>\r\nok",
        "mail cicd-bot@example.com or ping @cicd-bot-staging",
    ],
)
def test_a_mention_quoted_or_shown_as_code_does_not_summon_the_bot(note):
    assert not mentions(note, BOT)


@pytest.mark.parametrize("bad_id", [True, False, 1.5, "1.5", None, [9001], {"id": 9001}, -1, 0, 2**63])
def test_a_pipeline_hook_whose_id_is_not_an_id_asks_for_nothing(bad_id):
    payload = gitlab_payload("pipeline_hook")
    payload["object_attributes"]["id"] = bad_id
    routed = route("Pipeline Hook", payload, {}, json.dumps(payload).encode(), BOT)
    assert routed.jobs == [] and not routed.record


@pytest.mark.parametrize("good_id", [9001, "9001", 9001.0])
def test_a_pipeline_hook_id_as_gitlab_or_a_proxy_writes_it_is_read(good_id):
    payload = gitlab_payload("pipeline_hook")
    payload["object_attributes"]["id"] = good_id
    routed = route("Pipeline Hook", payload, {}, json.dumps(payload).encode(), BOT)
    assert [job.payload["pipeline_id"] for job in routed.jobs] == [9001]


@pytest.mark.parametrize(
    ("note", "command"),
    [
        # a job's or provider's name written as code is still the command's argument (found by review)
        ("@cicd-bot explain `pytest`", MrCommand("explain", argument="pytest")),
        ("@cicd-bot provider `anthropic`", MrCommand("provider", provider="anthropic")),
        ("@cicd-bot reanalyze with `anthropic`", MrCommand("reanalyze", provider="anthropic")),
        ("```\r\nERROR x\r\n```\r\n@cicd-bot reanalyze", MrCommand("reanalyze")),
    ],
)
def test_a_command_s_argument_written_as_code_is_read(note, command):
    assert parse_mr_command(note, BOT) == command
