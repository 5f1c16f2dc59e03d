# Shared set-up for scripts/serve and scripts/test: Debian libraries, a virtualenv, the package.
# Idempotent: each step is skipped when it is already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }

# A first install takes minutes; nothing here stays silent for more than HEARTBEAT seconds, so
# that nobody takes a working install for a hung one.
HEARTBEAT=20

# Turns apt-get's machine-readable status lines (APT::Status-Fd) into one line per 20 % of each
# phase (download, install), so that a long install shows progress without a line per package,
# and says it is still working when a phase goes HEARTBEAT seconds without a new step.
apt_progress() {
  local line phase pct step last_phase="" last_step=-1 started=$SECONDS said=$SECONDS current=""
  local rc
  while true; do
    rc=0; IFS= read -r -t 1 line || rc=$?
    if [ "$rc" -ne 0 ]; then
      [ "$rc" -gt 128 ] || break  # end of apt's output; a timeout only means it is busy
      if [ $(( SECONDS - said )) -ge "$HEARTBEAT" ]; then
        note "… fortfarande igång, $(( SECONDS - started )) s${current:+ ($current)}"; said=$SECONDS
      fi
      continue
    fi
    [[ $line =~ ^(dl|pm)status:[^:]*(:[a-z][a-z0-9]*)?:([0-9]+)[.0-9]*:(.*)$ ]] || continue
    current="${BASH_REMATCH[4]}"
    if [ "${BASH_REMATCH[1]}" = dl ]; then phase="hämtar"; else phase="installerar"; fi
    pct="${BASH_REMATCH[3]}"; step=$(( pct / 20 * 20 ))
    if [ "$phase" != "$last_phase" ] || [ "$step" -gt "$last_step" ]; then
      note "$(printf '%-11s %3d %%  %s' "$phase" "$step" "${BASH_REMATCH[4]}")"
      last_phase="$phase"; last_step="$step"; said=$SECONDS
    fi
  done
}

# Run a long command with its output in a log, and print a line at least every HEARTBEAT seconds:
# the last thing pip or npm said it was doing, with the time so far. The log is shown on failure.
run_with_heartbeat() {
  local label="$1"; shift
  local log started=$SECONDS pid line
  log="$(mktemp "${TMPDIR:-/tmp}/formservice-install.XXXXXX")"
  "$@" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 1 "$HEARTBEAT"); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null || break
    line="$(grep -E '^(Collecting|Downloading|Building|Installing|Preparing)|(added|reify|http fetch)' "$log" \
            | tail -n 1 | cut -c1-90 || true)"
    note "… $label, $(( SECONDS - started )) s${line:+: $line}"
  done
  if ! wait "$pid"; then
    tail -n 30 "$log" >&2; say "$label misslyckades (logg: $log)"; return 1
  fi
  rm -f "$log"
}

# Install the Debian packages given that are not installed yet (as root, or through sudo).
# Prints what is installed and its progress; apt's own output goes to a log shown on failure.
APT_UPDATED=""
apt_ensure() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo="" log started=$SECONDS
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  local apt=($sudo env DEBIAN_FRONTEND=noninteractive LC_ALL=C apt-get)
  log="$(mktemp "${TMPDIR:-/tmp}/formservice-apt.XXXXXX")"
  say "Installerar Debianpaket: ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then
    note "apt-get update"
    run_with_heartbeat "apt-get update" "${apt[@]}" update -q
    APT_UPDATED=1
  fi
  local count
  count="$("${apt[@]}" install -s --no-install-recommends "${missing[@]}" 2>/dev/null | grep -c '^Inst ' || true)"
  if [ "${count:-0}" -ge 50 ]; then
    note "$count paket med beroenden: första gången tar det några minuter"
  else
    note "${count:-?} paket med beroenden"
  fi
  if ! { "${apt[@]}" install -y -q --no-install-recommends -o APT::Status-Fd=3 "${missing[@]}" \
           3>&1 >>"$log" 2>&1 | apt_progress; }; then
    tail -n 30 "$log" >&2; say "apt-get install misslyckades (logg: $log)"; return 1
  fi
  rm -f "$log"
  note "klart: ${count:-?} paket på $(( SECONDS - started )) s"
}

# Debian packages: what the service itself needs (WeasyPrint renders with Pango/HarfBuzz from the
# system; the fonts come from the package itself, formservice/static; pysaml2 checks SAML signatures
# with xmlsec1), plus any that the calling script put in extra_debian_packages before sourcing this
# file, in one apt transaction.
apt_ensure libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 shared-mime-info xmlsec1 ${extra_debian_packages[@]+"${extra_debian_packages[@]}"}

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
  # Reinstall only when the dependency list or the pinned versions changed since the last install.
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ] || [ "$ROOT/constraints.txt" -nt "$stamp" ]; then
    local started=$SECONDS
    say "Installerar Pythonpaket i .venv (versionerna i constraints.txt)"
    run_with_heartbeat "pip" "$VENV/bin/pip" install --progress-bar off --upgrade pip
    run_with_heartbeat "pip" "$VENV/bin/pip" install --progress-bar off -c "$ROOT/constraints.txt" -e "$ROOT$extra"
    touch "$stamp"
    note "klart på $(( SECONDS - started )) s"
  fi
}
