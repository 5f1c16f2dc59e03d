"""The user-visible background job (formservice/jobs.py): who asked, its state, the encrypted
parameters and result, and when it was made, finished and downloaded (for gallring of the result).
DBOS's own queue tables are made by `formservice init-db` through DBOS.migrate, not here.

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobb",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("params_enc", sa.LargeBinary, nullable=False),
        sa.Column("result_enc", sa.LargeBinary, nullable=True),
        sa.Column("filename", sa.String(120), nullable=True),
        sa.Column("mimetype", sa.String(80), nullable=True),
        sa.Column("error", sa.String(300), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.Column("downloaded_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_jobb_user_id", "jobb", ["user_id"])
    op.create_index("ix_jobb_created_at", "jobb", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_jobb_created_at", "jobb")
    op.drop_index("ix_jobb_user_id", "jobb")
    op.drop_table("jobb")
