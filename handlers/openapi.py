"""GET /openapi.json and /docs: the OpenAPI 3.1 document, built from the routes, their auth marks and the pydantic models."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from handlers import api_operations as ops
from handlers.auth import Access, access_of
from handlers.schemas import Error
from handlers.templating import render

OPENAPI_VERSION = "3.1.0"
TITLE = "cicd-bot"
DESCRIPTION = (
    "cicd-bot explains failed GitLab CI/CD pipelines. GitLab and Slack call its webhooks; people and scripts "
    "read its history with the API token (CICD_BOT_API_TOKEN) as a bearer token, browsers through the dashboard's "
    "login. Generated from the running server's routes: what is not enabled here (Slack, for example) is not listed."
)
SECURITY_SCHEMES: dict[str, dict] = {
    "bearerToken": {"type": "http", "scheme": "bearer", "description": "CICD_BOT_API_TOKEN"},
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "cicd_bot_session",
        "description": "Set by POST /dashboard/login; signed with a key derived from the API token",
    },
    "gitlabToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Gitlab-Token",
        "description": "The hook's secret token, GITLAB_WEBHOOK_SECRET",
    },
    "gitlabSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "webhook-signature",
        "description": "Standard Webhooks signature (with webhook-id and webhook-timestamp) made with "
        "GITLAB_WEBHOOK_SIGNING_TOKEN",
    },
    "slackSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Slack-Signature",
        "description": "Slack's request signature (with X-Slack-Request-Timestamp) made with SLACK_SIGNING_SECRET",
    },
}
_ACCESS_SECURITY = {
    Access.bearer: [{"bearerToken": []}],
    Access.session: [{"bearerToken": []}, {"sessionCookie": []}],
    Access.page: [{"bearerToken": []}, {"sessionCookie": []}],
}


class UndocumentedRoute(LookupError):
    """A route the server serves that the document does not describe."""


def _version() -> str:
    try:
        return metadata.version("cicd-bot")
    except metadata.PackageNotFoundError:
        return "0"


def _clean(schema: Any) -> Any:
    """Drop pydantic's generated titles (noise in a rendered document); keep everything else."""
    if isinstance(schema, dict):
        return {k: _clean(v) for k, v in schema.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(schema, list):
        return [_clean(v) for v in schema]
    return schema


def _without_null(schema: dict) -> dict:
    """A query parameter is absent or a string, never null: keep the non-null branch of an Optional."""
    branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        rest = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
        return {**branches[0], **rest}
    return schema


def query_parameters(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = _without_null(_clean(prop))
        description = prop.pop("description", None)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        out.append(param)
    return out


def _response(resp: ops.Resp, refs: dict[type[BaseModel], dict]) -> dict:
    out: dict[str, Any] = {"description": resp.description}
    if resp.model is not None:
        out["content"] = {resp.media: {"schema": refs[resp.model]}}
    elif resp.media:
        out["content"] = {resp.media: {"schema": resp.schema or {}}}
    if resp.headers:
        out["headers"] = {name: {"description": text, "schema": {"type": "string"}} for name, text in resp.headers}
    return out


def _operation(op: ops.Op, access: Access | None, refs: dict[type[BaseModel], dict]) -> dict:
    responses = dict(op.responses)
    if access is not None:
        # What the auth middleware answers before the handler runs.
        responses.setdefault(401, ops.Resp("Missing or wrong bearer token (or session)", Error))
        responses.setdefault(404, ops.Resp("CICD_BOT_API_TOKEN is not set: the API and the dashboard are off", Error))
        if access is Access.page:
            responses.setdefault(
                303, ops.Resp("No credentials: to the login form", None, "", headers=[("Location", "")])
            )
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    if op.description:
        out["description"] = op.description
    params = list(op.parameters)
    if op.query is not None:
        params.extend(query_parameters(op.query))
    if params:
        out["parameters"] = params
    if op.body is not None:
        media, schema = op.body
        out["requestBody"] = {
            "required": op.body_required,
            "content": {media: {"schema": refs[schema] if isinstance(schema, type) else schema}},
        }
    out["responses"] = {str(code): _response(r, refs) for code, r in sorted(responses.items())}
    out["security"] = _ACCESS_SECURITY[access] if access is not None else list(op.security)
    return out


def _models(operations: list[ops.Op]) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = {Error}
    for op in operations:
        found.update(r.model for r in op.responses.values() if r.model is not None)
        if op.body is not None and isinstance(op.body[1], type):
            found.add(op.body[1])
    return found


def build_spec(app: web.Application) -> dict:
    """The document for this application's routes; raises UndocumentedRoute for a route without a description."""
    paths: dict[str, dict] = {}
    used: list[tuple[str, str, ops.Op, Access | None]] = []
    for route in app.router.routes():
        if route.method == "HEAD":  # aiohttp adds HEAD beside every GET
            continue
        path = route.resource.canonical if route.resource is not None else ""
        op = ops.OPERATIONS.get((route.method, path))
        if op is None:
            raise UndocumentedRoute(f"{route.method} {path} has no entry in handlers/api_operations.py")
        used.append((route.method, path, op, access_of(route.handler)))
    models = sorted(_models([op for _, _, op, _ in used]), key=lambda m: m.__name__)
    refs, defs = models_json_schema([(m, "serialization") for m in models], ref_template="#/components/schemas/{model}")
    model_refs = {m: refs[(m, "serialization")] for m in models}
    for method, path, op, access in used:
        paths.setdefault(path, {})[method.lower()] = _operation(op, access, model_refs)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": TITLE, "version": _version(), "description": DESCRIPTION},
        "tags": [{"name": name, "description": text} for name, text in ops.TAGS.items()],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": _clean(defs.get("$defs", {})), "securitySchemes": SECURITY_SCHEMES},
    }


SPEC = web.AppKey("openapi", dict)


def attach(app: web.Application) -> None:
    """Build the document once, when every route is mounted: a route without a description stops start-up."""
    app[SPEC] = build_spec(app)


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(request.app[SPEC], headers={"Cache-Control": "no-cache"})


async def docs_page(request: web.Request) -> web.Response:
    return render("docs.html", private=False, spec=request.app[SPEC], methods=ops.METHOD_ORDER)
