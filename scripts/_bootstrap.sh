# Shared set-up for scripts/serve and scripts/test: Debian libraries, a virtualenv, the package.
# Idempotent: each step is skipped when it is already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Install the Debian packages given that are not installed yet (as root, or through sudo).
apt_ensure() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "Installerar Debianpaket: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  echo "Python 3.11 behövs men hittades inte." >&2
  return 1
}

# WeasyPrint renders with Pango/HarfBuzz from the system; fonts come from the package itself.
apt_ensure libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 shared-mime-info

ensure_venv() {
  local extra="${1:-}"
  if [ ! -x "$VENV/bin/python" ]; then
    local py; py="$(find_python)"
    if ! "$py" -m venv "$VENV" 2>/dev/null; then
      apt_ensure python3.11-venv
      rm -rf "$VENV"; "$py" -m venv "$VENV"
    fi
  fi
  local stamp="$VENV/.installed$extra"
  # Reinstall only when the dependency list changed since the last install.
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    say "Installerar Pythonpaket i .venv"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e "$ROOT$extra"
    touch "$stamp"
  fi
}
