"""Accounts: organisations, enheter and users, login and server-side sessions, API tokens, the
login forms. Imports only the infrastructure at the package root (db, crypto, audit, security)."""
