"""Fake Anthropic Messages server with forced tool use; run with python -m tests.fakes.anthropic_server."""

from __future__ import annotations

from aiohttp import web

from tests.fakes import (
    FakeModelServer,
    derive_answer,
    derive_text,
    estimate_tokens,
    run_main,
)

ERRORS = {
    400: ("invalid_request_error", "The request is not valid."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
    500: ("api_error", "Internal server error."),
    529: ("overloaded_error", "Overloaded"),
}


class FakeAnthropic(FakeModelServer):
    name = "anthropic"

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v1/messages", self.messages)]

    async def messages(self, request: web.Request) -> web.Response:
        behaviour, body = await self.take(request)
        if body is None:
            return self.error(400)
        kind = behaviour.get("kind")
        if kind == "status":
            return self.error(int(behaviour["status"]), retry_after=behaviour.get("retry_after"))
        system = body.get("system") or ""
        if isinstance(system, list):
            system = "\n".join(block.get("text", "") for block in system)
        texts = [system]
        for message in body.get("messages") or []:
            content = message.get("content", "")
            if isinstance(content, list):
                content = "\n".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
            texts.append(str(content))
        prompt_text = "\n".join(texts)
        choice = body.get("tool_choice") or {}
        tool_name = choice.get("name") if choice.get("type") == "tool" else None
        if tool_name:
            if kind == "malformed":
                # Tool input is always a JSON object; "malformed" means it does not fit the schema.
                answer: dict = {"summary": 42, "category": "not-a-category"}
            else:
                answer = behaviour.get("answer") or derive_answer(prompt_text)
            content = [{"type": "tool_use", "id": f"toolu_fake{self.calls}", "name": tool_name, "input": answer}]
            stop_reason, out_text = "tool_use", str(answer)
        else:
            out_text = (
                behaviour.get("text") if kind == "text" else ("" if kind == "malformed" else derive_text(prompt_text))
            )
            content = [{"type": "text", "text": out_text}] if out_text else []
            stop_reason = "end_turn"
        cached = int(behaviour.get("cached") or 0)
        return web.json_response(
            {
                "id": f"msg_fake{self.calls}",
                "type": "message",
                "role": "assistant",
                "model": body.get("model", "fake-model"),
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": max(1, estimate_tokens(prompt_text) - cached),
                    "output_tokens": estimate_tokens(out_text),
                    "cache_read_input_tokens": cached,
                    "cache_creation_input_tokens": 0,
                },
            }
        )

    def error(self, status: int, retry_after: str | None = None) -> web.Response:
        kind, message = ERRORS.get(status, ("api_error", "Error."))
        headers = {"request-id": f"req_fake{self.calls}"}
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
        return web.json_response(
            {"type": "error", "error": {"type": kind, "message": message}}, status=status, headers=headers
        )


if __name__ == "__main__":
    run_main(FakeAnthropic)
