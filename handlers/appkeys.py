"""Typed keys for what the aiohttp application carries."""

from __future__ import annotations

from aiohttp import web

from bot.runtime.services import Services
from handlers.body import BodyReader

SERVICES = web.AppKey("services", Services)
# One body reader per door: a flood at one door cannot take the other's read slots.
GITLAB_BODIES = web.AppKey("gitlab_bodies", BodyReader)
SLACK_BODIES = web.AppKey("slack_bodies", BodyReader)
