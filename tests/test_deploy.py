"""The production recipe in deploy/: the systemd units verify, the scripts parse (and pass
shellcheck where it is installed), the example environment file names every setting config.py
reads from the environment, and nginx accepts the example site."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from formservice import config

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())
SCRIPTS = [DEPLOY / "installera.sh", DEPLOY / "postgresql.sh", DEPLOY / "formservice", DEPLOY / "e2e-ny-debian.sh",
           ROOT / "scripts" / "serve"]
APP = "/opt/formservice"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# FORMSERVICE_* names in the code that are not for the environment file: set by the units
# (INSTANCE_PATH; HOST and PORT are ExecStart's arguments) or by deploy/formservice (PROGRAM),
# found beside the code (FORMS_DIR, TEMPLATES_DIR, TRANSLATIONS_DIR), or for tests only (JOBB_TESTPAUS).
NOT_FOR_THE_ENV_FILE = {"INSTANCE_PATH", "HOST", "PORT", "PROGRAM", "FORMS_DIR", "TEMPLATES_DIR", "TRANSLATIONS_DIR",
                        "JOBB_TESTPAUS"}


def settings_read_from_the_environment() -> set[str]:
    """config.py's variables, and every other FORMSERVICE_* name the code reads (serving, the render
    pool, the job worker): a new one fails the test until the example names it."""
    named = set()
    for path in (ROOT / "formservice").rglob("*.py"):
        named |= set(re.findall(r"FORMSERVICE_([A-Z0-9_]+)", path.read_text(encoding="utf-8")))
    return {f"FORMSERVICE_{k}" for k in (set(config._ENV) | named) - NOT_FOR_THE_ENV_FILE}


def test_the_units_are_the_expected_set():
    assert [u.name for u in UNITS] == ["formservice-backup.service", "formservice-backup.timer",
                                       "formservice-gallring.service", "formservice-gallring.timer",
                                       "formservice.service"]


@pytest.mark.skipif(not Path(SYSTEMD_ANALYZE).exists(), reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_units(tmp_path):
    """The shipped text, with only /opt/formservice moved to a folder that holds an executable
    stand-in for the command (verify checks that ExecStart's program exists)."""
    app = tmp_path / "opt" / "formservice"
    (app / ".venv" / "bin").mkdir(parents=True)
    stub = app / ".venv" / "bin" / "formservice"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    rendered = tmp_path / "units"
    rendered.mkdir()
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        moved = text.replace(APP, str(app))
        assert moved.replace(str(app), APP) == text  # nothing but the path differs
        (rendered / unit.name).write_text(moved, encoding="utf-8")
    done = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", *sorted(str(p) for p in rendered.iterdir())],
                          capture_output=True, text=True, timeout=120)
    # Exit status 0 alone is not enough: a misspelt value ("ignoring: …") is a warning only.
    assert done.returncode == 0 and done.stderr.strip() == "" and done.stdout.strip() == "", done.stderr + done.stdout


def test_no_inline_comments_and_the_expected_settings_in_the_units():
    for unit in UNITS:
        for number, line in enumerate(unit.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.lstrip().startswith(("#", ";", "[")):
                # systemd reads "EnvironmentFile=/etc/formservice/miljo   # note" as one path.
                assert "#" not in line, f"{unit.name}:{number}: a comment after a value: {line}"
    service = (DEPLOY / "systemd" / "formservice.service").read_text(encoding="utf-8")
    backup = (DEPLOY / "systemd" / "formservice-backup.service").read_text(encoding="utf-8")
    for text in (service, backup, (DEPLOY / "systemd" / "formservice-gallring.service").read_text(encoding="utf-8")):
        assert "EnvironmentFile=/etc/formservice/miljo\n" in text
        assert "Environment=FORMSERVICE_INSTANCE_PATH=/var/lib/formservice/instance\n" in text
        assert "User=formservice\n" in text and "NoNewPrivileges=true\n" in text
    assert "ExecStart=/opt/formservice/.venv/bin/formservice run --host 127.0.0.1 --port 5000\n" in service
    backup_line = re.search(r"^ExecStart=.* backup (\S+) --keys-dest (\S+)$", backup, re.M)
    assert backup_line, "the backup unit runs formservice backup with --keys-dest"
    destination, keys = backup_line.groups()
    writable = re.search(r"^ReadWritePaths=(.*)$", backup, re.M).group(1).split()
    assert any(destination.startswith(w) for w in writable) and any(keys.startswith(w) for w in writable)
    assert not keys.startswith(destination), "a backup and its keys are never kept together"


def _example() -> list[str]:
    return (DEPLOY / "miljo.exempel").read_text(encoding="utf-8").splitlines()


def test_the_example_environment_file_names_every_setting():
    lines = _example()
    named = {}
    for i, line in enumerate(lines):
        m = re.match(r"^#?(FORMSERVICE_[A-Z0-9_]+|REQUESTS_CA_BUNDLE)=(.*)$", line)
        if m:
            named[m.group(1)] = line
            above = lines[i - 1]
            assert above.startswith("# ") and not re.match(r"^#?[A-Z_]+=", above[2:]), \
                f"no comment line above {m.group(1)}"
    settings = settings_read_from_the_environment()
    assert settings - set(named) == set(), "settings missing from deploy/miljo.exempel"
    assert set(named) - settings - {"REQUESTS_CA_BUNDLE"} == set(), "settings the service does not read"
    # Required, and so not commented out: the database and the proxy in front.
    assert named["FORMSERVICE_DATABASE_URL"] == "FORMSERVICE_DATABASE_URL="
    assert named["FORMSERVICE_TRUSTED_PROXIES"] == "FORMSERVICE_TRUSTED_PROXIES=1"
    # Set by the units, never by the environment file.
    assert "FORMSERVICE_INSTANCE_PATH" not in named


def test_the_example_environment_file_is_read_by_systemd_as_written():
    for number, line in enumerate(_example(), 1):
        if not line or line.startswith("#"):
            continue  # systemd's comments are whole lines that start with # (or ;)
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"line {number}: {line}"
        assert "#" not in value and not value.startswith(('"', "'")), f"line {number}: {line}"


def test_the_example_values_are_accepted_by_config():
    """Every example value (uncommented) parses as config.py parses the variable."""
    environ = {}
    for line in _example():
        m = re.match(r"^#?(FORMSERVICE_([A-Z0-9_]+))=(.+)$", line)
        if m and m.group(2) in config._ENV:
            environ[m.group(1)] = m.group(3)
    parsed = config.from_environment(environ)
    assert parsed["TRUSTED_PROXIES"] == 1 and parsed["PASSWORD_LOGIN"] is True


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_scripts_parse(script):
    done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck(script):
    done = subprocess.run(["shellcheck", "--severity=warning", "-x", "-P", str(ROOT / "scripts"), str(script)],
                          capture_output=True, text=True, cwd=script.parent)
    assert done.returncode == 0, done.stdout


@pytest.mark.skipif(not Path(NGINX).exists() or shutil.which("openssl") is None,
                    reason="nginx or openssl is not installed")
def test_nginx_accepts_the_example(tmp_path):
    key, cert = tmp_path / "formservice.key", tmp_path / "formservice.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=formservice.example.se"],
                   check=True, capture_output=True, timeout=60)
    site = (DEPLOY / "nginx-formservice.conf").read_text(encoding="utf-8")
    assert "proxy_set_header Host $http_host;" in site  # keeps a port other than 443
    assert "proxy_set_header Host $host;" not in site
    (tmp_path / "site.conf").write_text(site.replace("/etc/ssl/certs/formservice.pem", str(cert))
                                        .replace("/etc/ssl/private/formservice.key", str(key)))
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n")
    done = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "logs" / "error.log"),
                           "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "[warn]" not in done.stderr and "[emerg]" not in done.stderr, done.stderr


def test_the_install_script_installs_what_the_units_run():
    """installera.sh and the units agree on the paths, and the venv comes from the constraints file."""
    script = (DEPLOY / "installera.sh").read_text(encoding="utf-8")
    for path in ("APP=/opt/formservice", "STATE=/var/lib/formservice", "BACKUPS=/var/backups/formservice",
                 'KEY_COPIES="$STATE/nyckelkopior"', 'ENV_FILE="$ETC/miljo"', "ETC=/etc/formservice"):
        assert path in script
    assert 'constraints=(-c "$APP/constraints.txt")' in script
    assert 'source "$SRC/scripts/_bootstrap.sh"' in script  # the service's Debian packages, one list
    for unit in UNITS:
        assert unit.name in script


@pytest.mark.parametrize("host, args, secure", [
    ("127.0.0.1", "", "0"), ("127.8.9.10", "", "0"), ("::1", "", "0"), ("localhost", "", "0"),
    ("0.0.0.0", "", "on"), ("10.1.2.3", "", "on"), ("formservice.example.se", "", "on"),
    ("127.0.0.1", "--workers 1 --host 0.0.0.0", "on"), ("", "--host=10.0.0.1", "on"), ("", "", "0"),
])
def test_serve_turns_secure_cookies_off_only_for_loopback(host, args, secure):
    """scripts/serve's own lines (from choosing the host to the Secure flag), run as they stand."""
    text = (ROOT / "scripts" / "serve").read_text(encoding="utf-8")
    block = re.search(r'^host="\$\{FORMSERVICE_HOST.*?^esac$', text, re.S | re.M).group(0)
    program = (f"note() {{ :; }}; args=({args}); unset FORMSERVICE_SESSION_COOKIE_SECURE; "
               + (f"FORMSERVICE_HOST={host}; " if host else "unset FORMSERVICE_HOST; ")
               + block + '\necho "${FORMSERVICE_SESSION_COOKIE_SECURE:-on}"')
    done = subprocess.run(["bash", "-euc", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == secure
