"""Uppföljning: anonymised follow-up for the Samordningsförbund – counts, flows and lead times
over the ärenden of the organisations in scope, every published number protected by the cell-key
method (anonymisering.py, docs/uppfoljning.md). Only aggregates leave
the database; nothing is decrypted (kön and age band are plain columns, see arenden.demografi).
May import infrastructure, accounts, arenden, doctor, blanketter, processkarta and rendering; no
flask (the web wing's uppfoljning view calls it)."""
