"""The follow-up's summary table gains SUS's before/after counts (kind "sus", arenden/statistik.py),
written as Finsam participants' ärenden close, and each row its cell key (``cellnyckel``), so that
the database sums the keys of a published number instead of the follow-up keying every row in
Python. Closings made before this revision are not in the table and no row has a key: the table is
emptied, and `formservice init-db` (which runs this migration) rebuilds every count and key from
the ärenden at once (uppfoljning.exempeldata.counts_missing).

Revision ID: 0019
Revises: 0018
"""
from alembic import op
import sqlalchemy as sa

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

READ = ["slag", "kon", "manad", "aldersgrupp", "nyckel", "dagar", "enhet_id", "antal"]


def upgrade() -> None:
    op.execute("DELETE FROM statistik")
    op.drop_index("ix_statistik_las", "statistik")
    with op.batch_alter_table("statistik") as batch:
        batch.add_column(sa.Column("cellnyckel", sa.BigInteger, nullable=False, server_default="0"))
    # every follow-up query reads only this index: the count and the key included
    op.create_index("ix_statistik_las", "statistik", [*READ, "cellnyckel"])


def downgrade() -> None:
    op.execute("DELETE FROM statistik WHERE slag = 'sus'")
    op.drop_index("ix_statistik_las", "statistik")
    with op.batch_alter_table("statistik") as batch:
        batch.drop_column("cellnyckel")
    op.create_index("ix_statistik_las", "statistik", READ)
