"""Analyses get a strict key (answer reuse only for a true repeat) and the project's group and visibility
(reuse within a group of the same visibility). The old `signature` stays as the family key.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 16:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('analyses') as batch:
        batch.add_column(sa.Column('strict_key', sa.String(length=64), nullable=False, server_default=''))
        batch.add_column(sa.Column('group_path', sa.String(length=512), nullable=False, server_default=''))
        batch.add_column(sa.Column('visibility', sa.String(length=16), nullable=False, server_default=''))
        batch.create_index('ix_analyses_strict_key', ['strict_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('analyses') as batch:
        batch.drop_index('ix_analyses_strict_key')
        batch.drop_column('visibility')
        batch.drop_column('group_path')
        batch.drop_column('strict_key')
