"""The process map (processkarta): lanes, rutor and transitions read from forms/processkarta.yaml,
validated once, read-only afterwards. Pure Python: imports nothing of formservice; no flask or
database."""
