"""The follow-up's summary table gains SUS's before/after counts (kind "sus", arenden/statistik.py),
written as Finsam participants' ärenden close. Closings made before this revision are not in it: the
table is emptied, and `formservice init-db` (which runs this migration) rebuilds every count from
the ärenden at once (uppfoljning.exempeldata.counts_missing).

Revision ID: 0019
Revises: 0018
"""
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM statistik")


def downgrade() -> None:
    op.execute("DELETE FROM statistik WHERE slag = 'sus'")
