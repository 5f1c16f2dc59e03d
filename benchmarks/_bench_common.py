"""What the benchmarks share without the test suite (its extras are not in the venv that
scripts/serve makes): a fixed benchmark keyring and the CSRF token of a page."""
from __future__ import annotations

import re

# A fixed keyring of the shape the service expects; for throwaway benchmark databases only.
BENCH_KEYS = {"active": "b1", "data_keys": {"b1": "YmVuY2htYXJrLWRhdGEta2V5LTAwMDAwMDAwMDAwMDA="},
              "index_key": "YmVuY2htYXJrLWluZGV4LWtleS0wMDAwMDAwMDAwMDA="}


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if match is None:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)
