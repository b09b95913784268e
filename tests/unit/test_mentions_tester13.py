"""Who a merge request note addresses: a mention quoted or shown as code does not summon the bot."""

from __future__ import annotations

import pytest

from handlers.gitlab_routing import mentions

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
        "mail cicd-bot@example.com or ping @cicd-bot-staging",
    ],
)
def test_a_mention_quoted_or_shown_as_code_does_not_summon_the_bot(note):
    assert not mentions(note, BOT)
