"""The fake model servers as separate processes, driven through their admin API, as end-to-end tests use them."""

from __future__ import annotations

import asyncio
import sys

import aiohttp
import anthropic
import openai
import pytest

from tests.fakes import rate_limited, reply
from tests.helpers import ROOT


async def start(module: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        "--port",
        "0",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()
    assert line.startswith("listening on http://127.0.0.1:")
    return proc, line.removeprefix("listening on ")


async def stop(proc: asyncio.subprocess.Process) -> None:
    proc.terminate()
    assert await asyncio.wait_for(proc.wait(), 10) == 0


async def test_openai_fake_process_is_scripted_and_reports_requests():
    proc, url = await start("tests.fakes.openai_server")
    admin = url.removesuffix("/v1")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{admin}/_fake/script", json={"behaviours": [rate_limited("0"), reply("hi")]}) as r:
                assert (await r.json())["queued"] == 2
            client = openai.AsyncOpenAI(api_key="test", base_url=url, max_retries=0)
            with pytest.raises(openai.RateLimitError):
                await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])
            done = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])
            assert done.choices[0].message.content == "hi"
            await client.close()
            async with http.get(f"{admin}/_fake/requests") as r:
                seen = await r.json()
        assert seen["calls"] == 2
        assert [req["path"] for req in seen["requests"]] == ["/v1/chat/completions"] * 2
        assert seen["requests"][0]["body"]["messages"] == [{"role": "user", "content": "q"}]
    finally:
        await stop(proc)


async def test_anthropic_fake_process_default_answer_quotes_the_log():
    proc, url = await start("tests.fakes.anthropic_server")
    try:
        client = anthropic.AsyncAnthropic(api_key="test", base_url=url, max_retries=0)
        message = await client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=100,
            messages=[{"role": "user", "content": "41: compiling\n42: error: linker failed"}],
            tools=[{"name": "answer", "input_schema": {"type": "object"}}],
            tool_choice={"type": "tool", "name": "answer"},
        )
        await client.close()
        block = message.content[0]
        assert block.type == "tool_use" and block.input["evidence"] == [{"line": 42, "text": "error: linker failed"}]
        assert message.usage.input_tokens > 0
    finally:
        await stop(proc)
