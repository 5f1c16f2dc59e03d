"""Organisations, enheter, users, login attempts and server-side sessions.

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("namn", sa.String(200), nullable=False, unique=True),
        sa.Column("typ", sa.String(40), nullable=False),
        sa.Column("installningar", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_table(
        "enhet",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisation.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("namn", sa.String(200), nullable=False),
        sa.Column("utdelningsadress", sa.String(200), nullable=False, server_default=""),
        sa.Column("postnummer", sa.String(10), nullable=False, server_default=""),
        sa.Column("ort", sa.String(100), nullable=False, server_default=""),
        sa.Column("telefon", sa.String(40), nullable=False, server_default=""),
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enhet_id", sa.Integer, sa.ForeignKey("enhet.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("username", sa.String(120), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("namn", sa.String(200), nullable=False),
        sa.Column("titel", sa.String(200), nullable=False, server_default=""),
        sa.Column("telefon", sa.String(40), nullable=False, server_default=""),
        sa.Column("epost", sa.String(200), nullable=False, server_default=""),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("password_changed_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_app_user_enhet_id", "app_user", ["enhet_id"])
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_key", sa.String(64), nullable=False),
        sa.Column("client_key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("success", sa.Boolean, nullable=False),
    )
    op.create_index("ix_login_attempt_account_at", "login_attempt", ["account_key", "at"])
    op.create_index("ix_login_attempt_client_at", "login_attempt", ["client_key", "at"])
    op.create_table(
        "web_session",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_seen", sa.DateTime, nullable=False),
    )
    op.create_index("ix_web_session_user_id", "web_session", ["user_id"])
    op.create_index("ix_web_session_last_seen", "web_session", ["last_seen"])


def downgrade() -> None:
    op.drop_table("web_session")
    op.drop_table("login_attempt")
    op.drop_table("app_user")
    op.drop_table("enhet")
    op.drop_table("organisation")
