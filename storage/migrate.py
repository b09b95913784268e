"""Alembic driven from code: upgrade, downgrade, status, and the start-up check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.db import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str = "") -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on '%' in URL-encoded passwords.
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


@dataclass(frozen=True)
class MigrationStatus:
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def empty(self) -> bool:
        return self.current is None


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


async def status(db: Database) -> MigrationStatus:
    async with db.engine.connect() as conn:
        current = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    return MigrationStatus(current=current, head=head_revision())


async def _run_command(db: Database, fn, revision: str) -> None:
    cfg = alembic_config(db.url)

    def run(sync_conn) -> None:
        cfg.attributes["connection"] = sync_conn
        fn(cfg, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


async def upgrade(db: Database, revision: str = "head") -> None:
    await _run_command(db, command.upgrade, revision)


async def downgrade(db: Database, revision: str = "-1") -> None:
    await _run_command(db, command.downgrade, revision)


async def reset(db: Database) -> None:
    await downgrade(db, "base")
    await upgrade(db, "head")
