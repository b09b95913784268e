"""The bot's GitLab webhook as `webhook install` writes it and `doctor` judges it (pure rules)."""

from __future__ import annotations

import pytest

from bot.core.hook_rules import HOOK_EVENTS, bot_hooks, hook_fields, hook_problems, hook_url
from handlers.gitlab_routing import EVENT_ROUTES

GOOD = {
    "url": "https://bot.example.com/webhooks/gitlab",
    "enable_ssl_verification": True,
    "alert_status": "executable",
    **dict.fromkeys(HOOK_EVENTS, True),
}


def test_the_hook_asks_for_exactly_the_events_the_door_handles():
    assert sorted(HOOK_EVENTS.values()) == sorted(EVENT_ROUTES)


@pytest.mark.parametrize(
    "typed, url",
    [
        ("https://bot.example.com", "https://bot.example.com/webhooks/gitlab"),
        ("https://bot.example.com/", "https://bot.example.com/webhooks/gitlab"),
        ("https://bot.example.com/webhooks/gitlab/", "https://bot.example.com/webhooks/gitlab"),
        ("http://10.0.0.5:8080/cicd", "http://10.0.0.5:8080/cicd/webhooks/gitlab"),
    ],
)
def test_a_typed_address_becomes_the_webhook_url(typed, url):
    assert hook_url(typed) == url


@pytest.mark.parametrize("typed", ["bot.example.com", "ftp://bot.example.com", "https://"])
def test_an_address_without_scheme_or_host_is_refused(typed):
    with pytest.raises(ValueError):
        hook_url(typed)


def test_install_fields_turn_push_off_and_ssl_verification_on():
    fields = hook_fields(GOOD["url"], "s")
    assert fields["token"] == "s" and fields["enable_ssl_verification"] is True and fields["push_events"] is False
    assert all(fields[name] is True for name in HOOK_EVENTS)


def test_the_bots_hooks_are_found_by_url_or_by_path():
    others = {"id": 1, "url": "https://chat.example.com/hook"}
    old = {"id": 3, "url": "http://old:8080/webhooks/gitlab"}
    new = {"id": 2, "url": "https://bot.example.com/webhooks/gitlab"}
    assert bot_hooks([others, old, new]) == [new, old]
    assert bot_hooks([others, old, new], "https://bot.example.com/webhooks/gitlab") == [new]


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"note_events": False, "job_events": None}, "does not send job, note (comments) events"),
        ({"alert_status": "disabled"}, "GitLab disabled it after failed deliveries"),
        ({"alert_status": "temporarily_disabled", "disabled_until": "2030-01-01T00:00:00Z"}, "until 2030-01-01"),
        ({"enable_ssl_verification": False}, "SSL verification is off"),
    ],
)
def test_what_is_wrong_with_a_hook_is_said_in_words(change, problem):
    assert hook_problems(GOOD) == []
    assert any(problem in text for text in hook_problems({**GOOD, **change}))


def test_ssl_verification_does_not_matter_for_plain_http():
    assert hook_problems({**GOOD, "url": "http://10.0.0.5/webhooks/gitlab", "enable_ssl_verification": False}) == []
