"""Every outbound HTTP client goes through HTTP(S)_PROXY, and straight to the hosts NO_PROXY names."""

from __future__ import annotations

import aiohttp
import pytest

from bot.clients.gitlab import GitLabClient
from bot.clients.proxy import proxy_for
from bot.clients.slack import SlackPublisher, make_client
from bot.providers.anthropic import AnthropicBackend
from bot.providers.openai import OpenAIBackend
from tests.fakes.gitlab_server import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.proxy_server import FakeProxy
from tests.fakes.slack_server import FakeSlack
from tests.helpers import make_settings

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def environment(monkeypatch):
    """Set the proxy variables as given (upper case), with every other spelling cleared first."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return apply


@pytest.mark.parametrize(
    "variables, url, expected",
    [
        ({}, "https://gitlab.example.com", None),
        ({"HTTPS_PROXY": "http://proxy:3128"}, "https://gitlab.example.com", "http://proxy:3128"),
        ({"HTTPS_PROXY": "http://proxy:3128"}, "http://gitlab.example.com", None),  # http goes by HTTP_PROXY
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".example.com"}, "https://gitlab.example.com", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "gitlab.example.com"}, "https://gitlab.example.com:8443", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "other.example.com"}, "https://gitlab.example.com", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, "https://slack.com/api/", None),
    ],
)
def test_the_proxy_for_a_url_is_read_as_curl_reads_it(environment, variables, url, expected):
    environment(**variables)
    assert proxy_for(url) == expected


@pytest.mark.parametrize("bypass", [False, True])
async def test_gitlab_calls_go_through_the_proxy_unless_no_proxy_names_gitlab(environment, bypass):
    async with FakeProxy() as proxy, FakeGitLab() as gitlab, aiohttp.ClientSession() as session:
        project = gitlab.state.add_project("acme/api")["id"]
        pipeline = gitlab.state.add_pipeline(project)["id"]
        job = gitlab.state.add_job(project, pipeline, status="failed", trace="make: *** [all] Error 1\n")["id"]
        environment(HTTP_PROXY=proxy.url, **({"NO_PROXY": "127.0.0.1"} if bypass else {}))
        client = GitLabClient(session, gitlab.url, DEFAULT_TOKEN)
        assert (await client.current_user())["username"] == "cicd-bot"
        log = b"".join([chunk async for chunk in client.stream_trace(project, job)])  # the streamed path too
    assert log == b"make: *** [all] Error 1\n"
    api = f"{gitlab.url}/api/v4"
    assert proxy.seen == ([] if bypass else [f"{api}/user", f"{api}/projects/{project}/jobs/{job}/trace"])


@pytest.mark.parametrize("bypass", [False, True])
async def test_slack_web_api_and_response_urls_honour_no_proxy(environment, bypass):
    async with FakeProxy() as proxy, FakeSlack() as slack, aiohttp.ClientSession() as session:
        environment(HTTP_PROXY=proxy.url, HTTPS_PROXY=proxy.url, **({"NO_PROXY": "127.0.0.1"} if bypass else {}))
        settings = make_settings(SLACK_BOT_TOKEN=slack.token, SLACK_SIGNING_SECRET="s", SLACK_API_URL=slack.url)
        client = make_client(settings, session)
        assert client.proxy == (None if bypass else proxy.url)
        assert (await client.auth_test())["ok"]
        publisher = SlackPublisher(settings, db=None, http=session, client=client)  # type: ignore[arg-type]
        await publisher.tell_user({"response_url": slack.response_url()}, "only you see this")
    assert len(slack.responses) == 1
    expected = [] if bypass else [f"{slack.url}auth.test", slack.response_url()]
    assert proxy.seen == expected


@pytest.mark.parametrize("bypass", [False, True])
async def test_model_sdks_honour_the_proxy_and_no_proxy(environment, bypass, fake_openai, fake_anthropic):
    async with FakeProxy() as proxy:
        environment(HTTP_PROXY=proxy.url, **({"NO_PROXY": "127.0.0.1"} if bypass else {}))
        settings = make_settings(
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=fake_openai.url,
            ANTHROPIC_API_KEY="ak-test",
            ANTHROPIC_BASE_URL=fake_anthropic.url,
        )
        for backend in (OpenAIBackend(settings), AnthropicBackend(settings)):
            try:
                await backend.complete("Reply OK.", [{"role": "user", "content": "OK?"}])
            finally:
                await backend.aclose()
    assert len(proxy.seen) == (0 if bypass else 2)
