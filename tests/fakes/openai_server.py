"""Fake OpenAI Chat Completions server (also the Azure deployment path); run with python -m tests.fakes.openai_server."""

from __future__ import annotations

import json
import time

from aiohttp import web

from tests.fakes import (
    FakeModelServer,
    derive_answer,
    derive_text,
    estimate_tokens,
    run_main,
)

ERRORS = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "forbidden", "You are not allowed to do this."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded."),
}


class FakeOpenAI(FakeModelServer):
    name = "openai"
    url_suffix = "/v1"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/chat/completions", self.chat),
            web.post("/openai/deployments/{deployment}/chat/completions", self.chat),
        ]

    @property
    def azure_endpoint(self) -> str:
        return self.base

    async def chat(self, request: web.Request) -> web.Response:
        behaviour, body = await self.take(request)
        if body is None:
            return self.error(400, "We could not parse the JSON body of your request.")
        kind = behaviour.get("kind")
        if kind == "status":
            return self.error(int(behaviour["status"]), retry_after=behaviour.get("retry_after"))
        messages = body.get("messages") or []
        prompt_text = "\n".join(str(m.get("content", "")) for m in messages)
        system_text = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
        fmt = (body.get("response_format") or {}).get("type")
        wants_json = fmt in ("json_schema", "json_object") or "JSON schema" in system_text
        if kind == "malformed":
            content = '{"summary": "The build failed because' if wants_json else ""
        elif kind == "text":
            content = behaviour["text"]
        elif wants_json:
            answer = json.dumps(behaviour.get("answer") or derive_answer(prompt_text))
            # Without response_format a compatible server answers in prose around a code block.
            content = answer if fmt else f"Here is the analysis:\n```json\n{answer}\n```"
        else:
            content = derive_text(prompt_text)
        prompt_tokens = estimate_tokens(prompt_text)
        completion_tokens = estimate_tokens(content)
        return web.json_response(
            {
                "id": f"chatcmpl-fake{self.calls}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake-model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                    "prompt_tokens_details": {"cached_tokens": int(behaviour.get("cached") or 0)},
                },
            }
        )

    def error(self, status: int, message: str | None = None, retry_after: str | None = None) -> web.Response:
        kind, code, default = ERRORS.get(status, ("server_error", None, "Error."))
        headers = {"x-request-id": f"req_fake{self.calls}"}
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
        payload = {"error": {"message": message or default, "type": kind, "param": None, "code": code}}
        return web.json_response(payload, status=status, headers=headers)


if __name__ == "__main__":
    run_main(FakeOpenAI)
