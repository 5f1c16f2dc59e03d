"""Form campaign: hostile posts to every form route of the web app, and hostile GETs.

    .venv/bin/python fuzz/forms.py [--quick] [--posts N] [--gets N] [--chunk N] [--seed S] [--json out.json]

The full-size run of what tests/test_forms_fuzz.py does in a bounded way, with the same generators
(tests/form_fuzzing.py): for each form endpoint (tests/form_fuzzing.ENDPOINTS, every POST route of the app but the JSON API), hypothesis draws post bodies from the
field names the real page offers (hostile values, foreign keys, files where text is expected, fields
given twice, a wrong CSRF token one time in ten) and hostile query strings; and GETs of the page
(and, for post-only routes, of the route itself) with hostile query strings and Host headers.

Each endpoint's posts are sent in chunks (``--chunk``, default 200); every chunk gets a world of its
own (a fresh copy of a migrated SQLite database, a new app, an admin who is also a caseworker, one of
every object: ärende, draft, document, unconfirmed answers, user, enhet, API token), so that what one
chunk changed (a discarded draft, confirmed answers) does not hide a route from the next.

What counts as a problem: a 5xx, or Werkzeug's English error page (tests/form_fuzzing.problem).
Every problem is printed with the exact request (method, URL, Host, body) to reproduce it.

Half the posts are built as the suite test builds them (every field hostile); the other half keep the
page's own values (and a submit button's) and make about a quarter of the fields hostile, to get past
the CSRF, version and choice checks to the code behind them.
Defaults: 10,000 posts and 2,500 GETs (``--quick``: 250 and 75). Exit status 1 when a problem was found.
"""
from __future__ import annotations

import argparse
import atexit
import html as htmllib
import io
import json
import logging
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # the repository, not fuzz/, so `tests` and `formservice` import as packages
# Hypothesis keeps caches in a folder of its own: a temporary one, removed at the end (see main).
STORAGE = tempfile.mkdtemp(prefix="formservice-formfuzz-hypothesis-")
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = STORAGE
atexit.register(shutil.rmtree, STORAGE, ignore_errors=True)  # also after --help or an early error

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.form_fuzzing import (ENDPOINTS, GET_ONLY, HOSTILE_TEXT, SHOWN_ON, build_world,  # noqa: E402
                                field_names, hostile_post, hostile_query, post, problem)
from tests.formparse import forms  # noqa: E402



_SUBMIT = re.compile(r"<(?:button|input)\b[^>]*>", re.S)


def page_defaults(client, url: str) -> dict[str, list[str]]:
    """What a browser would send from the page at ``url``: each field's value, and every value of a
    submit button (``val=yes:soc1.7``, ``action=next`` …), so that a post can be valid but for a few
    hostile fields and get past the CSRF, version and choice checks to the code behind them."""
    page = client.get(url).get_data(as_text=True)
    choices: dict[str, set[str]] = defaultdict(set)
    for form in forms(page):
        for name, value in form["fields"].items():
            if name != "csrf_token" and value is not None:
                choices[name].add(value)
    for tag in _SUBMIT.findall(page):
        if tag.startswith("<button") or 'type="submit"' in tag:
            name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
            if name and value:
                choices[htmllib.unescape(name.group(1))].add(htmllib.unescape(value.group(1)))
    return {name: sorted(values) for name, values in choices.items()}


@st.composite
def mixed_post(draw, names: list[str], defaults: dict[str, list[str]]):
    """The page's own values, with about a quarter of the fields (and foreign keys) made hostile."""
    body = {name: draw(st.sampled_from(values)) for name, values in defaults.items()}
    for name, value in draw(hostile_post(names)).items():
        if draw(st.integers(0, 2)) == 0:
            body[name] = value
    return body


class ErrorLog(logging.Handler):
    """Keeps the ERROR records the app logs (a 500's traceback), to show them next to the problem."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(self.format(record))


class Campaign:
    def __init__(self, folder: Path, errors: ErrorLog):
        from formservice.schema import upgrade

        self.folder, self.errors, self.worlds = folder, errors, 0
        self.template = folder / "template.sqlite"
        upgrade(f"sqlite:///{self.template}")
        os.environ["FORMSERVICE_INSTANCE_PATH"] = str(folder / "instance")
        self.stats = defaultdict(lambda: {"posts": 0, "gets": 0, "status": Counter(), "5xx": 0, "english": 0,
                                          "ms": [], "logged_out_chunks": 0})
        self.problems: list[dict] = []
        self.app = None

    def new_world(self):
        from formservice import create_app

        from tests.conftest import TEST_KEYS

        if self.app is not None:
            self.app.extensions["db_session"].remove()
            self.app.extensions["db_engine"].dispose()
        self.worlds += 1
        db = self.folder / f"world{self.worlds}.sqlite"
        for old in self.folder.glob("world*.sqlite*"):
            old.unlink()
        shutil.copy(self.template, db)
        self.app = create_app({"TESTING": False, "SECRET_KEY": "fuzz", "DATABASE_URL": f"sqlite:///{db}",
                               "SESSION_COOKIE_SECURE": False, "KEYS": TEST_KEYS,
                               "LOGIN_MAX_FAILURES_PER_CLIENT": 10 ** 6, "LOGIN_MAX_FAILURES_PER_ACCOUNT": 10 ** 6})
        return build_world(self.app)

    def record(self, endpoint, method, url, response, elapsed, host=None, body=None):
        s = self.stats[endpoint]
        s["posts" if method == "POST" else "gets"] += 1
        s["status"][response.status_code] += 1
        s["ms"].append(elapsed * 1000)
        what = problem(response)
        if what is None:
            self.errors.records.clear()
            return
        if response.status_code >= 500:
            s["5xx"] += 1
        else:
            s["english"] += 1
        self.problems.append({"endpoint": endpoint, "method": method, "url": url, "host": host, "body": body,
                              "status": response.status_code, "problem": what,
                              "response": response.get_data(as_text=True)[:800],
                              "log": "\n".join(self.errors.records)[-3000:]})
        self.errors.records.clear()

    # ------------------------------------------------------------------ posts
    def posts(self, endpoint: str, count: int, chunk: int, base_seed: int) -> None:
        done, index = 0, 0
        while done < count:
            n = min(chunk, count - done)
            world = self.new_world()
            url = world.urls[endpoint]
            shown = world.urls[SHOWN_ON.get(endpoint, endpoint)]
            token, names = field_names(world.client, shown)
            defaults = page_defaults(world.client, shown)
            if endpoint == "admin.texts_pdf":  # the PDF buttons appear on the texts page after a preview
                defaults["blankett"] = sorted(self.app.extensions["catalogue"].blanketter)
            sent = [0]

            # Half the posts as tests/test_forms_fuzz.py sends them (every field hostile), half mostly valid.
            @seed(base_seed + index)
            @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(data=st.one_of(hostile_post(names), mixed_post(names, defaults)),
                   with_token=st.integers(0, 9).map(bool), query=hostile_query())
            def run(data, with_token, query):
                body = printable(data)
                started = time.perf_counter()
                response = post(world.client, url, token if with_token else "garbage", data, query)
                self.record(endpoint, "POST", url + query, response, time.perf_counter() - started,
                            body=dict(body, csrf_token=token if with_token else "garbage"))
                sent[0] += 1
                if response.status_code in (302, 409):  # saved, or a stale version: the page has moved on
                    fresh = page_defaults(world.client, shown)
                    if endpoint == "admin.texts_pdf":
                        fresh.pop("blankett", None)
                    defaults.update(fresh)

            run()
            if world.client.get("/arenden").status_code != 200:
                self.stats[endpoint]["logged_out_chunks"] += 1
            done += max(sent[0], 1)
            index += 1

    # ------------------------------------------------------------------- gets
    def gets(self, endpoint: str, count: int, base_seed: int) -> None:
        if count <= 0:
            return
        world = self.new_world()
        targets = sorted({world.urls[SHOWN_ON.get(endpoint, endpoint)], world.urls[endpoint]})
        # (A header value with CR, LF or NUL never reaches the app: HTTP servers refuse it first.)
        hosts = st.one_of(st.just("localhost"), HOSTILE_TEXT.filter(lambda h: not set(h) & set("\r\n\x00")))

        @seed(base_seed)
        @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(target=st.sampled_from(targets), query=hostile_query(), host=hosts)
        def run(target, query, host):
            started = time.perf_counter()
            response = world.client.get(target + query, headers={"Host": host})
            self.record(endpoint, "GET", target + query, response, time.perf_counter() - started, host=host)

        run()


def printable(data: dict) -> dict:
    """The post body as it can be printed (and sent again): files as (filename, bytes)."""
    out = {}
    for key, value in data.items():
        if isinstance(value, tuple) and isinstance(value[0], io.BytesIO):
            out[key] = ("<file>", value[1], value[0].getvalue())
        else:
            out[key] = value
    return out


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))] if ordered else 0.0


def status_text(counter: Counter) -> str:
    return " ".join(f"{code}:{n}" for code, n in sorted(counter.items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a short smoke run (250 posts, 75 GETs)")
    ap.add_argument("--posts", type=int, help="hostile posts in all (default 10,000), spread over the endpoints")
    ap.add_argument("--gets", type=int, help="GETs with hostile query strings and Host headers (default 2,500)")
    ap.add_argument("--chunk", type=int, default=200, help="posts per fresh world (default 200)")
    ap.add_argument("--seed", type=int, default=20261127, help="hypothesis seed base (default 20261127)")
    ap.add_argument("--only", help="comma-separated endpoints to fuzz (default: every form route and every page reading a query string)")
    ap.add_argument("--json", type=Path, help="write the counts and problems here")
    args = ap.parse_args()
    total_posts = args.posts if args.posts is not None else (250 if args.quick else 10_000)
    total_gets = args.gets if args.gets is not None else (75 if args.quick else 2_500)
    endpoints = args.only.split(",") if args.only else ENDPOINTS + GET_ONLY
    per_post = -(-total_posts // len(endpoints))
    per_get = -(-total_gets // len(endpoints))

    errors = ErrorLog()
    errors.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addHandler(errors)

    folder = Path(tempfile.mkdtemp(prefix="formservice-formfuzz-"))
    started = time.perf_counter()
    cpu0 = time.process_time()
    try:
        campaign = Campaign(folder, errors)
        for i, endpoint in enumerate(endpoints):
            t0 = time.perf_counter()
            if endpoint not in GET_ONLY:  # pages with a query string and no form of their own
                campaign.posts(endpoint, per_post, args.chunk, args.seed + 1000 * i)
            campaign.gets(endpoint, per_get, args.seed + 1000 * i + 999)
            s = campaign.stats[endpoint]
            print(f"[{i + 1:2}/{len(endpoints)}] {endpoint:26} {s['posts']:5} posts {s['gets']:4} gets "
                  f"{time.perf_counter() - t0:6.1f} s  {status_text(s['status'])}", flush=True)
        if campaign.app is not None:
            campaign.app.extensions["db_session"].remove()
            campaign.app.extensions["db_engine"].dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(STORAGE, ignore_errors=True)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu0

    stats = campaign.stats
    print()
    print(f"Form campaign: {len(endpoints)} endpoints, {campaign.worlds} worlds, seed {args.seed}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print()
    print("| endpoint | POST | GET | status distribution | 5xx | English page | p50 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    total = Counter()
    for endpoint in endpoints:
        s = stats[endpoint]
        total.update(s["status"])
        note = f" (session lost in {s['logged_out_chunks']} chunk(s))" if s["logged_out_chunks"] else ""
        print(f"| {endpoint}{note} | {s['posts']} | {s['gets']} | {status_text(s['status'])} | {s['5xx']} | "
              f"{s['english']} | {statistics.median(s['ms']):.1f} | {max(s['ms']):.1f} |")
    posts = sum(s["posts"] for s in stats.values())
    gets = sum(s["gets"] for s in stats.values())
    fivexx = sum(s["5xx"] for s in stats.values())
    english = sum(s["english"] for s in stats.values())
    all_ms = [m for s in stats.values() for m in s["ms"]]
    print(f"| **all** | {posts} | {gets} | {status_text(total)} | {fivexx} | {english} | "
          f"{statistics.median(all_ms):.1f} | {max(all_ms):.1f} |")
    print()
    print(f"{posts + gets} requests in {elapsed:.1f} s wall, {cpu:.1f} s CPU "
          f"({(posts + gets) / elapsed:.0f} requests/s; p95 {percentile(all_ms, 95):.1f} ms).")
    if campaign.problems:
        print(f"\n{len(campaign.problems)} PROBLEM(S):")
        for p in campaign.problems[:20]:
            print(f"\n- {p['endpoint']}: {p['method']} {p['url']!r} Host={p['host']!r} -> {p['status']} "
                  f"({p['problem']})")
            if p["body"] is not None:
                print(f"  body: {p['body']!r}"[:3000])
            print(f"  response: {p['response'][:300]!r}")
            if p["log"]:
                print("  log:\n    " + p["log"].replace("\n", "\n    "))
    else:
        print("No 5xx and no English Werkzeug page.")
    if args.json:
        args.json.write_text(json.dumps({
            "endpoints": {e: {k: (dict(v) if isinstance(v, Counter) else v) for k, v in stats[e].items() if k != "ms"}
                          | {"p50_ms": statistics.median(stats[e]["ms"]), "max_ms": max(stats[e]["ms"])}
                          for e in endpoints},
            "posts": posts, "gets": gets, "seconds": elapsed, "cpu_seconds": cpu, "worlds": campaign.worlds,
            "problems": campaign.problems, "seed": args.seed,
        }, indent=2, ensure_ascii=False, default=repr))
    return 1 if campaign.problems else 0


if __name__ == "__main__":
    sys.exit(main())
