"""Crash-safe side effects and the reconciliation sweep: Slack delivery intents, sweep state, webhook status.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows written before this revision were all posted: the intent is recorded only from now on.
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), server_default='posted', nullable=False))

    op.create_table('sweep_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pass_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cursor', sa.JSON(), nullable=True),
    sa.Column('last_sweep_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_pass_completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_result', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('gitlab_hooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=300), nullable=False),
    sa.Column('hook_id', sa.BigInteger(), nullable=False),
    sa.Column('alert_status', sa.String(length=32), nullable=False),
    sa.Column('disabled_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('alerted_status', sa.String(length=32), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scope', 'hook_id')
    )


def downgrade() -> None:
    op.drop_table('gitlab_hooks')
    op.drop_table('sweep_state')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('state')
