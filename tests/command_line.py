"""The `formservice` command in a process of its own, as an operator runs it: the code of this
checkout (PYTHONPATH), none of the test run's FORMSERVICE_* settings unless given."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c",
       "import sys; from formservice.cli import main; sys.argv[0] = 'formservice'; sys.exit(main())"]


def environment(instance: Path, **settings: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVICE_") and k != "PYTHONPATH"}
    env.update(FORMSERVICE_INSTANCE_PATH=str(instance), PYTHONPATH=str(ROOT), **settings)
    return env


def formservice(instance: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    """Run `formservice ARGS` to its end; text output."""
    return subprocess.run(CLI + list(args), env=environment(instance, **settings), cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


# The demo with a few generated uppföljning ärenden instead of the 1,200 an installation to try
# gets: what these tests need (the demo's users and ärenden, encrypted data) in a fraction of the time.
SMALL_DEMO_ARENDEN = 20
SMALL_DEMO = ["demo", "--exempelarenden", str(SMALL_DEMO_ARENDEN)]


def demo_instance(instance: Path) -> Path:
    """An instance made by the service's own commands, with the demo's ärenden in it (encrypted)."""
    for command in (["init-instance"], ["init-db"], SMALL_DEMO):
        done = formservice(instance, *command)
        assert done.returncode == 0, done.stderr
    return instance


def job_worker(app, log, module: str, **settings: str) -> subprocess.Popen:
    """`formservice jobb` in a process of its own, on the test app's database, keys and instance
    (instance/jobb.sqlite), its output into `log`. The worker knows a workflow as the app's
    blueprints import its module; `module` is imported as well, so that the test is about the worker
    whatever the blueprints import."""
    import json

    from .conftest import TEST_KEYS

    settings = {"FORMSERVICE_DATABASE_URL": app.config["DATABASE_URL"], "FORMSERVICE_KEYS": json.dumps(TEST_KEYS),
                "FORMSERVICE_SECRET_KEY": "test-secret-key", **settings}
    return subprocess.Popen([CLI[0], "-c", f"import {module}; " + CLI[2], "jobb"],
                            env=environment(Path(app.instance_path), **settings), cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)


def kill_hard(process: subprocess.Popen) -> int:
    """kill -9, unless it has ended already; its exit status (-9 when this killed it)."""
    import signal

    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    return process.wait(timeout=10)
