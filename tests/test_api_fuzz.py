"""The API against its own OpenAPI description (schemathesis): random and malformed values for every
operation, every response a documented one — and never a 5xx. A bounded run for the suite; the
full-size campaign is fuzz/api.py."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import schemathesis
from hypothesis import HealthCheck, settings

from formservice import create_app
from formservice.schema import upgrade

from .conftest import TEST_KEYS

_FOLDER = tempfile.mkdtemp(prefix="formservice-apifuzz-")
atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)
_URL = f"sqlite:///{os.path.join(_FOLDER, 'fuzz.sqlite')}"
upgrade(_URL)
os.environ.setdefault("FORMSERVICE_INSTANCE_PATH", os.path.join(_FOLDER, "instance"))
APP = create_app({"TESTING": True, "SECRET_KEY": "fuzz", "DATABASE_URL": _URL, "SESSION_COOKIE_SECURE": False,
                  "KEYS": TEST_KEYS, "API_RENDERS_PER_MINUTE": 1_000_000})
with APP.app_context():
    from formservice.accounts import administration, operations

    _org = administration.create_organisation("Fuzzstaden", "kommun")
    _enhet = administration.create_enhet(None, _org.id, administration.EnhetData(namn="Fuzzenheten"))
    _user = operations.create_user(username="fuzz", password="fuzz-lösenord-123", role="socialsekreterare",
                                   enhet_id=_enhet.id, namn="Fuzz Testsson")
    TOKEN = administration.create_token(None, _user, "fuzz", None)

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=int(os.environ.get("FORMSERVICE_FUZZ_EXAMPLES", "12")), deadline=None,
          suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_description(case):
    # The schema cannot say everything the validation checks (a personnummer's check digit and
    # date, a date in range): such schema-valid values get a documented 422, so "schema-valid data
    # must be accepted" is the one check left out. Server errors, status codes, content types and
    # response bodies are all checked.
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"},
                           excluded_checks=[schemathesis.checks.positive_data_acceptance])
