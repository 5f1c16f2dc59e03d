"""Every form route gets random and malformed posts: never a 5xx, never an English error page.
A bounded run for the suite; the full-size campaign is fuzz/forms.py."""
from __future__ import annotations

import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import AuthActions
from .form_fuzzing import (ELSEWHERE, ENDPOINTS, GET_ONLY, HOSTILE_TEXT, SHOWN_ON, build_world, field_names,
                           hostile_post, hostile_query, post, problem)

EXAMPLES = int(os.environ.get("FORMSERVICE_FUZZ_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def world(tmp_path_factory, sqlite_template):
    import shutil

    from formservice import create_app

    from .conftest import TEST_KEYS

    folder = tmp_path_factory.mktemp("formfuzz")
    shutil.copy(sqlite_template, folder / "db.sqlite")
    os.environ.setdefault("FORMSERVICE_INSTANCE_PATH", str(folder / "instance"))
    app = create_app({"TESTING": False, "SECRET_KEY": "fuzz", "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite'}",
                      "SESSION_COOKIE_SECURE": False, "KEYS": TEST_KEYS, "LOGIN_MAX_FAILURES_PER_CLIENT": 10 ** 6,
                      "LOGIN_MAX_FAILURES_PER_ACCOUNT": 10 ** 6})
    built = build_world(app)
    yield built
    app.extensions["db_engine"].dispose()


def test_every_form_route_of_the_app_is_fuzzed(world):
    """A new form cannot escape the fuzzing: every route that takes a POST is in ENDPOINTS."""
    app = world.client.application
    posting = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert posting - set(ENDPOINTS) - ELSEWHERE == set()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_hostile_posts_never_give_a_server_error(world, endpoint):
    url = world.urls[endpoint]
    token, names = field_names(world.client, world.urls[SHOWN_ON.get(endpoint, endpoint)])

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(data=hostile_post(names), with_token=st.integers(0, 9).map(bool), query=hostile_query())
    def run(data, with_token, query):
        response = post(world.client, url, token if with_token else "garbage", data, query)
        assert problem(response) is None, (url, data, response.status_code, response.get_data(as_text=True)[:500])

    run()
    if endpoint in ("auth.logout", "auth.login"):  # the next tests fuzz as the signed-in admin again
        AuthActions(world.client).login(username="fuzzadmin")


@pytest.mark.parametrize("endpoint", ENDPOINTS + GET_ONLY)
def test_hostile_query_strings_and_hosts_never_give_a_server_error(world, endpoint):
    url = world.urls[SHOWN_ON.get(endpoint, endpoint)]

    # (A header value with CR, LF or NUL never reaches the app: HTTP servers refuse it first.)
    hosts = st.one_of(st.just("localhost"), HOSTILE_TEXT.filter(lambda h: not set(h) & set("\r\n\x00")))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(query=hostile_query(), host=hosts)
    def run(query, host):
        response = world.client.get(url + query, headers={"Host": host})
        assert problem(response) is None, (url + query, host, response.status_code)

    run()


NASTY = ["²", "9" * 4301, "-1", "", "1e309", "\x00", "/\t/evil.example/", "FILE"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_field_with_every_nasty_value(world, endpoint):
    """A systematic sweep beside the random one: each field of the page, one at a time, with each
    value that has broken a parser before (a superscript digit, a number too long for int(), …)."""
    url = world.urls[endpoint]
    token, names = field_names(world.client, world.urls[SHOWN_ON.get(endpoint, endpoint)])
    for name in names + ["version", "sida"]:
        for value in NASTY:
            sent = (io.BytesIO(b"%PDF-1.7 not really"), "svar.pdf") if value == "FILE" else value
            response = post(world.client, url, token, {name: sent})
            assert problem(response) is None, (url, name, value, response.status_code)
