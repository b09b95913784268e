"""`cicd-bot explain` and `cicd-bot prompt` on a local log, with no provider and with each provider on the fakes."""

from __future__ import annotations

import argparse
import asyncio
import io
import json

import pytest

from bot.cli.explain import add_parsers, run_explain, run_prompt
from bot.providers.base import InMemoryLedger
from bot.providers.router import ProviderRouter
from tests.helpers import FAKE_KEY, heuristic, provider_settings
from tests.secrets_kit import GENERATORS, leaky_log, survivors

SECRET = "glpat-" + "Zk" * 10
LOG = (
    "Running with gitlab-runner 17.0\n"
    "$ npm ci\n"
    f"npm notice using //registry.npmjs.org/:_authToken={SECRET}\n"
    "npm ERR! code ERESOLVE\n"
    "npm ERR! ERESOLVE unable to resolve dependency tree\n"
    "ERROR: Job failed: exit code 1\n"
)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(list(argv))


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / "install-deps.log"
    path.write_text(LOG)
    return path


async def explain(settings, *argv: str) -> tuple[int, str, str]:
    """Run the command as the CLI does (its own event loop), in a thread so the fakes on this loop keep serving."""
    out, err = io.StringIO(), io.StringIO()
    args = parse("explain", *argv)
    router = ProviderRouter(settings, ledger=InMemoryLedger(), heuristic=heuristic())
    code = await asyncio.to_thread(args.run, args, settings, out=out, err=err, router=router)
    return code, out.getvalue(), err.getvalue()


async def test_no_provider_configured_uses_the_offline_analyzer(log_file):
    code, out, _ = await explain(provider_settings(), str(log_file))
    assert code == 0
    assert "Answered by heuristic (rules): 0 tokens in (0 cached), 0 out, $0.000000" in out
    assert SECRET not in out


async def test_openai_answer_with_tokens_and_cost(fake_openai, log_file):
    settings = provider_settings(OPENAI_API_KEY=FAKE_KEY, OPENAI_BASE_URL=fake_openai.url)
    code, out, _ = await explain(settings, str(log_file), "--failure-reason", "script_failure")
    assert code == 0 and fake_openai.calls == 1
    assert "Answered by openai (gpt-4o-mini):" in out
    assert "line 6: ERROR: Job failed: exit code 1" in out
    sent = fake_openai.bodies()[0]
    assert SECRET not in sent and "GitLab failure reason: script_failure" in json.loads(sent)["messages"][1]["content"]
    assert "This looks like a dependency problem" in sent


async def test_anthropic_as_json(fake_anthropic, log_file):
    settings = provider_settings(ANTHROPIC_API_KEY=FAKE_KEY, ANTHROPIC_BASE_URL=fake_anthropic.url)
    code, out, _ = await explain(settings, str(log_file), "--provider", "anthropic", "--json")
    data = json.loads(out)
    assert code == 0 and data["provider"] == "anthropic" and data["tokens_in"] > 0
    assert data["evidence"][0] == {"line": 6, "text": "ERROR: Job failed: exit code 1"}


async def test_azure_with_shown_prompt(fake_openai, log_file):
    settings = provider_settings(
        AZURE_OPENAI_API_KEY=FAKE_KEY,
        AZURE_OPENAI_ENDPOINT=fake_openai.azure_endpoint,
        AZURE_OPENAI_DEPLOYMENT="prod-gpt",
    )
    code, out, _ = await explain(settings, str(log_file), "--provider", "azure_openai", "--show-prompt")
    assert code == 0
    assert out.index("===== system =====") < out.index("Answered by azure_openai (prod-gpt)")
    assert fake_openai.requests[0]["path"] == "/openai/deployments/prod-gpt/chat/completions"


async def test_asked_provider_not_configured_falls_back_with_a_note(log_file):
    code, out, _ = await explain(provider_settings(), str(log_file), "--provider", "openai")
    assert code == 0
    assert "Answered by heuristic" in out and "  - openai did not answer: it is not configured." in out


def test_prompt_prints_the_redacted_prompt(log_file):
    out = io.StringIO()
    args = parse("prompt", str(log_file), "--job-name", "install", "--stage", "deps")
    assert run_prompt(args, provider_settings(), out=out) == 0
    text = out.getvalue()
    assert SECRET not in text and "[REDACTED" in text
    assert "Job: install (stage deps)" in text
    assert "4: npm ERR! code ERESOLVE" in text
    assert text.rstrip().endswith("tokens =====")


def test_prompt_removes_a_secret_of_a_line_it_does_not_show_from_the_lines_it_shows(tmp_path):
    """As the bot reads a CI job's log: a token printed in an env dump far above the failure, re-printed in base64
    at the failure, is removed there too (tests/flow/test_log_secrets.py is the same for the analysis job)."""
    _, token = GENERATORS["token"]()
    path = tmp_path / "deploy.log"
    path.write_text(leaky_log(token))
    out = io.StringIO()
    assert run_prompt(parse("prompt", str(path)), provider_settings(), out=out) == 0
    text = out.getvalue()
    assert "returned error: 401" in text and "DEPLOY_TOKEN=" not in text
    assert survivors(text, [token]) == [] and "[REDACTED:" in text


def test_unreadable_file_is_a_clear_error(tmp_path):
    err = io.StringIO()
    args = parse("explain", str(tmp_path / "missing.log"))
    assert run_explain(args, provider_settings(), out=io.StringIO(), err=err) == 1
    assert err.getvalue().startswith("cicd-bot explain: cannot read ") and "missing.log" in err.getvalue()
