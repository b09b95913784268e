"""Feedback votes: one row per person, analysis and direction, so a vote counts once however often it is clicked.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 20:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feedback_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('voter', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('analysis_id', 'voter', 'direction')
    )
    with op.batch_alter_table('feedback_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_votes_analysis_id'), ['analysis_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('feedback_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_votes_analysis_id'))
    op.drop_table('feedback_votes')
