"""SQLModel tables: what the bot received, queued, analysed, posted and was told."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


def _ts(index: bool = False, nullable: bool = False, default: bool = True) -> Any:
    kwargs: dict[str, Any] = {"sa_type": UTCDateTime, "nullable": nullable, "index": index}
    if default:
        kwargs["default_factory"] = utcnow
    else:
        kwargs["default"] = None
    return Field(**kwargs)


def _json(nullable: bool = True) -> Any:
    return Field(default=None, sa_type=sa.JSON, nullable=nullable)


class ReceivedEvent(SQLModel, table=True):
    """The inbox: every accepted delivery from GitLab, email or Slack, once per delivery key."""

    __tablename__ = "received_events"
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)  # gitlab_webhook | email | slack | cli
    delivery_key: str = Field(max_length=255, unique=True)
    event_type: str = Field(max_length=64)  # "Pipeline Hook", "Job Hook", "slash_command", ...
    project_id: int | None = Field(default=None, sa_type=sa.BigInteger, index=True)
    object_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    status: str = Field(default="", max_length=32)
    outcome: str = Field(default="recorded", max_length=32)  # enqueued | duplicate | ignored | recorded
    payload: dict | None = _json()
    received_at: datetime = _ts(index=True)


ACTIVE_STATES_SQL = "state IN ('queued', 'running')"


class QueueJob(SQLModel, table=True):
    """A unit of work in the durable queue."""

    __tablename__ = "queue_jobs"
    __table_args__ = (
        sa.Index("ix_queue_jobs_claim", "state", "run_after"),
        # A dedupe key blocks a second job only while the first waits or runs: once it is done, the same
        # event (a pipeline that fails again after a retry) may be worked on again.
        sa.Index(
            "uq_queue_jobs_active_dedupe",
            "dedupe_key",
            unique=True,
            sqlite_where=sa.text(ACTIVE_STATES_SQL),
            postgresql_where=sa.text(ACTIVE_STATES_SQL),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64, index=True)
    payload: dict | None = _json()
    dedupe_key: str | None = Field(default=None, max_length=255)
    state: str = Field(default="queued", max_length=16)  # queued | running | done | dead
    attempts: int = 0
    max_attempts: int = 5
    run_after: datetime = _ts()
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_expires_at: datetime | None = _ts(default=False, nullable=True)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    event_id: int | None = Field(default=None, foreign_key="received_events.id")
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    finished_at: datetime | None = _ts(default=False, nullable=True)


class Pipeline(SQLModel, table=True):
    """A GitLab pipeline the bot has looked at."""

    __tablename__ = "pipelines"
    __table_args__ = (sa.UniqueConstraint("project_id", "pipeline_id"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_type=sa.BigInteger)
    project_path: str = Field(default="", max_length=512, index=True)
    pipeline_id: int = Field(sa_type=sa.BigInteger)
    ref: str = Field(default="", max_length=512)
    sha: str = Field(default="", max_length=64)
    status: str = Field(default="", max_length=32)
    source: str = Field(default="", max_length=64)
    mr_iid: int | None = None
    author: str = Field(default="", max_length=255)
    web_url: str = Field(default="", max_length=1024)
    default_branch: str = Field(default="", max_length=255)
    fixed_by_pipeline_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class FailedJob(SQLModel, table=True):
    """A failed CI job, its excerpt and failure signature."""

    __tablename__ = "failed_jobs"
    __table_args__ = (sa.UniqueConstraint("project_id", "job_id"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_type=sa.BigInteger)
    pipeline_id: int = Field(sa_type=sa.BigInteger, index=True)
    job_id: int = Field(sa_type=sa.BigInteger)
    name: str = Field(default="", max_length=255)
    stage: str = Field(default="", max_length=255)
    ref: str = Field(default="", max_length=512)
    failure_reason: str = Field(default="", max_length=64)
    allow_failure: bool = False
    signature: str = Field(default="", max_length=64, index=True)
    failed_section: str | None = Field(default=None, max_length=255)
    excerpt: list | None = _json()  # [[n, text, section], ...] already redacted
    web_url: str = Field(default="", max_length=1024)
    created_at: datetime = _ts(index=True)


class Analysis(SQLModel, table=True):
    """One answer about one failure (or the pipeline), by one provider."""

    __tablename__ = "analyses"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_type=sa.BigInteger, index=True)
    project_path: str = Field(default="", max_length=512)
    pipeline_id: int = Field(sa_type=sa.BigInteger, index=True)
    job_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    signature: str = Field(default="", max_length=64, index=True)  # the family key: "seen before", statistics
    strict_key: str = Field(default="", max_length=64, index=True)  # the strict key: reuse of the answer
    group_path: str = Field(default="", max_length=512)  # the project's namespace, for reuse within a group
    visibility: str = Field(default="", max_length=16)  # the project's visibility (private | internal | public)
    trigger: str = Field(default="", max_length=32)  # webhook | email | slack | mr_command | cli
    status: str = Field(default="ok", max_length=16)  # ok | reused | error
    provider: str = Field(default="", max_length=32, index=True)
    model: str = Field(default="", max_length=128)
    category: str = Field(default="", max_length=32)
    verdict: str = Field(default="", max_length=32)
    summary: str = Field(default="", sa_type=sa.Text)
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    result: dict | None = _json()
    reused_from_id: int | None = None
    feedback_up: int = 0
    feedback_down: int = 0
    created_at: datetime = _ts(index=True)


class FeedbackVote(SQLModel, table=True):
    """One person's 👍 or 👎 on one analysis: the counters on the analysis move only when a row is new here."""

    __tablename__ = "feedback_votes"
    __table_args__ = (sa.UniqueConstraint("analysis_id", "voter", "direction"),)
    id: int | None = Field(default=None, primary_key=True)
    analysis_id: int = Field(index=True)
    voter: str = Field(max_length=64)  # the Slack user id ("" when Slack sent none)
    direction: str = Field(max_length=8)  # up | down
    created_at: datetime = _ts()


class ProviderCallRecord(SQLModel, table=True):
    """Every model call: who, what it cost, how long it took, how it ended."""

    __tablename__ = "provider_calls"
    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=32, index=True)
    model: str = Field(default="", max_length=128)
    operation: str = Field(default="analyze", max_length=16)
    project_path: str | None = Field(default=None, max_length=512, index=True)
    pipeline_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    outcome: str = Field(default="ok", max_length=32)
    error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _ts(index=True)


class Delivery(SQLModel, table=True):
    """Where the bot posted: an MR note id, a commit comment, a Slack message's channel and ts."""

    __tablename__ = "deliveries"
    id: int | None = Field(default=None, primary_key=True)
    delivery_key: str = Field(
        max_length=255, unique=True
    )  # e.g. mr:<project>:<iid>, slack:<channel>:<project>:<pipeline>
    target: str = Field(max_length=32)  # gitlab_mr_note | gitlab_commit_comment | slack_parent | slack_thread
    project_id: int | None = Field(default=None, sa_type=sa.BigInteger, index=True)
    pipeline_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    mr_iid: int | None = None
    note_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    channel: str | None = Field(default=None, max_length=64)
    ts: str | None = Field(default=None, max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    content_hash: str = Field(default="", max_length=64)
    analysis_id: int | None = None
    report: dict | None = _json()  # the PipelineReport last shown, so a later pass can say "fixed"
    # "posting": the intent was recorded and the message may or may not have reached Slack (found again by its
    # metadata); "posted": ts is the message.
    state: str = Field(default="posted", max_length=16, sa_column_kwargs={"server_default": "posted"})
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Conversation(SQLModel, table=True):
    """A follow-up conversation: a Slack thread or an MR discussion about one failure."""

    __tablename__ = "conversations"
    id: int | None = Field(default=None, primary_key=True)
    conversation_key: str = Field(
        max_length=255, unique=True
    )  # slack:<channel>:<thread_ts> | gitlab:<project>:<iid>:<discussion>
    project_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    pipeline_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    analysis_id: int | None = None
    job_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    summary: str = Field(default="", sa_type=sa.Text)  # older turns, summarised
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ConversationMessage(SQLModel, table=True):
    """One turn of a conversation."""

    __tablename__ = "conversation_messages"
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversations.id", index=True)
    role: str = Field(max_length=16)  # user | assistant
    author: str = Field(default="", max_length=255)
    content: str = Field(sa_type=sa.Text)
    provider: str = Field(default="", max_length=32)
    tokens_in: int = 0
    tokens_out: int = 0
    created_at: datetime = _ts()


class Preference(SQLModel, table=True):
    """A per-channel or per-project choice, e.g. the preferred provider."""

    __tablename__ = "preferences"
    __table_args__ = (sa.UniqueConstraint("scope", "scope_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=32)  # slack_channel | gitlab_project
    scope_id: str = Field(max_length=255)
    name: str = Field(max_length=64)
    value: str = Field(default="", max_length=255)
    updated_at: datetime = _ts()


class ChannelSubscription(SQLModel, table=True):
    """A Slack channel's subscription to a GitLab group or project path (wildcards allowed)."""

    __tablename__ = "channel_subscriptions"
    __table_args__ = (sa.UniqueConstraint("channel", "path_pattern"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=64, index=True)
    path_pattern: str = Field(max_length=512)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = _ts()


class ProcessedEmail(SQLModel, table=True):
    """One row per IMAP message seen, whatever became of it."""

    __tablename__ = "processed_emails"
    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=512, unique=True)
    folder: str = Field(default="INBOX", max_length=255)
    uid: int | None = Field(default=None, sa_type=sa.BigInteger)
    uidvalidity: int | None = Field(default=None, sa_type=sa.BigInteger)
    status: str = Field(max_length=16)  # enqueued | duplicate | skipped | malformed
    reason: str = Field(default="", max_length=512)
    project_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    pipeline_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    received_at: datetime = _ts()


class MailboxState(SQLModel, table=True):
    """The last UID seen in an IMAP folder and the folder's UIDVALIDITY."""

    __tablename__ = "mailbox_state"
    id: int | None = Field(default=None, primary_key=True)
    folder: str = Field(max_length=255, unique=True)
    uidvalidity: int | None = Field(default=None, sa_type=sa.BigInteger)
    last_uid: int = Field(default=0, sa_type=sa.BigInteger)
    updated_at: datetime = _ts()


class WorkerHeartbeat(SQLModel, table=True):
    """The last sign of life of each worker process."""

    __tablename__ = "worker_heartbeats"
    id: int | None = Field(default=None, primary_key=True)
    worker_id: str = Field(max_length=128, unique=True)
    hostname: str = Field(default="", max_length=255)
    pid: int = 0
    started_at: datetime = _ts()
    last_seen: datetime = _ts(index=True)


class UserLink(SQLModel, table=True):
    """A Slack user linked to a GitLab account (for SLACK_REQUIRE_GITLAB_LINK)."""

    __tablename__ = "user_links"
    id: int | None = Field(default=None, primary_key=True)
    slack_team_id: str = Field(default="", max_length=32)
    slack_user_id: str = Field(max_length=32, unique=True)
    gitlab_user_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    gitlab_username: str = Field(default="", max_length=255)
    link_code: str | None = Field(default=None, max_length=64, unique=True)
    linked_at: datetime | None = _ts(default=False, nullable=True)
    created_at: datetime = _ts()


class SweepState(SQLModel, table=True):
    """Where the reconciliation sweep stands: the window of the pass in progress, its project list and cursor."""

    __tablename__ = "sweep_state"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    since: datetime | None = _ts(default=False, nullable=True)  # pipelines updated after this (the pass's window)
    pass_started_at: datetime | None = _ts(default=False, nullable=True)  # None between passes
    cursor: dict | None = _json()  # the pass's projects, how far their listing got, the next project and page
    last_sweep_at: datetime | None = _ts(default=False, nullable=True)
    last_pass_completed_at: datetime | None = _ts(default=False, nullable=True)
    last_result: dict | None = _json()
    updated_at: datetime = _ts()


class HookStatus(SQLModel, table=True):
    """A GitLab group or project webhook as the sweep last saw it, and what Slack was last told about it."""

    __tablename__ = "gitlab_hooks"
    __table_args__ = (sa.UniqueConstraint("scope", "hook_id"),)
    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=300)  # group:<path or id> | project:<path or id>
    hook_id: int = Field(default=0, sa_type=sa.BigInteger)  # 0: the scope has no hook for the bot, or is unreadable
    alert_status: str = Field(max_length=32)  # executable | temporarily_disabled | disabled | missing | unreadable
    disabled_until: datetime | None = _ts(default=False, nullable=True)
    detail: str = Field(default="", max_length=500)
    alerted_status: str = Field(default="", max_length=32)  # the status Slack was last told about ("" = never)
    checked_at: datetime = _ts()
