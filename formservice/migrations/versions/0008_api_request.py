"""API requests that cost (renders), counted per token for the rate limit shared by all workers.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_request",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("caller", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_api_request_caller_at", "api_request", ["caller", "at"])


def downgrade() -> None:
    op.drop_table("api_request")
