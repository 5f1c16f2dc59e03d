"""Blanketter: the definitions read from forms/<id>.yaml, validation of values, the JSON Schema,
prefill and the wizard's pages, and the catalogue that loads them with the process map.
Pure Python: imports only processkarta and paths; never flask or the database."""
