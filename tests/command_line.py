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
