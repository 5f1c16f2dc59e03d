#!/usr/bin/env bash
# Install or upgrade formservice for production on Debian 12, as root (docs/drift.md). Idempotent:
# every step looks first and changes only what differs, so a second run changes nothing.
#   installera.sh [KÄLLA]      KÄLLA: this repository (a checkout or an unpacked release); default:
#                              the repository this script sits in. Copied to /opt/formservice.
# FORMSERVICE_DATABASE_URL in the environment fills in a new /etc/formservice/miljo (see postgresql.sh).
set -euo pipefail

SRC="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)"
APP=/opt/formservice
VENV="$APP/.venv"
SERVICE_USER=formservice
STATE=/var/lib/formservice
INSTANCE="$STATE/instance"
KEY_COPIES="$STATE/nyckelkopior"
BACKUPS=/var/backups/formservice
ETC=/etc/formservice
ENV_FILE="$ETC/miljo"
UNITS=(formservice.service formservice-backup.service formservice-backup.timer
       formservice-gallring.service formservice-gallring.timer)

[ "$(id -u)" -eq 0 ] || { echo "Kör som root: sudo $0 $*" >&2; exit 1; }
if [ ! -f "$SRC/pyproject.toml" ] || [ ! -d "$SRC/formservice" ]; then
  echo "$SRC är inte formservice (pyproject.toml och formservice/ saknas)." >&2; exit 1
fi
grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null ||
  echo "Obs: skriptet är gjort för Debian 12 (bookworm); fortsätter ändå." >&2

# Debian packages: the service's own list (scripts/_bootstrap.sh: Pango/HarfBuzz for WeasyPrint,
# xmlsec1 for SAML) plus what production needs besides, in one apt transaction.
extra_debian_packages=(python3 python3-venv postgresql-client rsync ca-certificates)
# shellcheck source=../scripts/_bootstrap.sh
source "$SRC/scripts/_bootstrap.sh"   # defines say/note/find_python; installs only what is missing
VENV="$APP/.venv"   # _bootstrap.sh set its own (the checkout's) .venv

changed=0
step() { say "$*"; changed=1; }

# ------------------------------------------------------------ the service user
if ! getent passwd "$SERVICE_USER" >/dev/null; then
  step "Skapar systemanvändaren $SERVICE_USER"
  useradd --system --user-group --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin \
    --comment "formservice" "$SERVICE_USER"
fi

# ------------------------------------------------------------ folders (owner, group, mode)
ensure_dir() {  # path owner group mode
  local path=$1 owner=$2 group=$3 mode=$4
  if [ ! -d "$path" ]; then
    step "Skapar $path"
    install -d -o "$owner" -g "$group" -m "$mode" "$path"
  elif [ "$(stat -c '%U:%G %a' "$path")" != "$owner:$group ${mode#0}" ]; then
    step "Rättar ägare och rättigheter för $path ($owner:$group $mode)"
    chown "$owner:$group" "$path"; chmod "$mode" "$path"
  fi
}
ensure_dir "$APP" root root 0755
ensure_dir "$STATE" "$SERVICE_USER" "$SERVICE_USER" 0750
ensure_dir "$INSTANCE" "$SERVICE_USER" "$SERVICE_USER" 0700
ensure_dir "$KEY_COPIES" "$SERVICE_USER" "$SERVICE_USER" 0700
ensure_dir "$BACKUPS" "$SERVICE_USER" "$SERVICE_USER" 0700
ensure_dir "$ETC" root "$SERVICE_USER" 0750

# ------------------------------------------------------------ the code, owned by root
# The service cannot change its own code. Files gone from the source go here too (--delete): a
# migration left behind from an older version would break the next init-db.
if [ "$SRC" != "$APP" ]; then
  # Excluded, and so also kept: what this script and pip make here (.venv, __pycache__, the
  # editable install's egg-info). Folder times are left alone: compiling touches them.
  sync_args=(-a --omit-dir-times --delete --chown=root:root "--chmod=go+rX,go-w,u+w" --exclude=/.git
             --exclude=/.venv --exclude=/instance --exclude=node_modules --exclude=__pycache__
             --exclude=/.pytest_cache --exclude='*.pyc' --exclude='/*.egg-info' --exclude=/build)
  if [ -n "$(rsync "${sync_args[@]}" --dry-run --itemize-changes "$SRC/" "$APP/")" ]; then
    step "Kopierar koden från $SRC till $APP"
    rsync "${sync_args[@]}" "$SRC/" "$APP/"
  fi
fi

# ------------------------------------------------------------ the virtualenv, from the constraints file
constraints=()
if [ -f "$APP/constraints.txt" ]; then
  constraints=(-c "$APP/constraints.txt")
else
  note "Obs: $APP/constraints.txt saknas – Pythonpaketen installeras utan låsta versioner."
fi
if [ ! -x "$VENV/bin/python" ]; then
  step "Skapar $VENV"
  "$(find_python)" -m venv "$VENV"
fi
# Reinstalled only when what decides the packages changed (pyproject.toml, constraints.txt).
wanted="$(cat "$APP/pyproject.toml" "$APP/constraints.txt" 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$VENV/.formservice-installerad" 2>/dev/null)" != "$wanted" ]; then
  step "Installerar Pythonpaketen i $VENV${constraints:+ (med constraints.txt)}"
  started=$SECONDS
  log="$(mktemp /tmp/formservice-pip.XXXXXX)"
  # One line per package, so that a long install is never silent for minutes; all of it in the log.
  if ! PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/pip" install --progress-bar off "${constraints[@]}" -e "$APP" 2>&1 |
       tee "$log" | { grep --line-buffered -E '^(Collecting|Building|Successfully)' || true; } | sed -u 's/^/    /' >&2; then
    tail -n 30 "$log" >&2; say "pip install misslyckades (logg: $log)"; exit 1
  fi
  rm -f "$log"
  echo "$wanted" > "$VENV/.formservice-installerad"
  note "klart på $(( SECONDS - started )) s"
fi
# Compiled by root once: the service cannot write into /opt, and would otherwise compile at each start.
if [ -n "$(find "$APP/formservice" -name '*.py' -newer "$VENV/.formservice-kompilerad" 2>/dev/null | head -1)" ] ||
   [ ! -f "$VENV/.formservice-kompilerad" ]; then
  step "Kompilerar Pythonmodulerna"
  "$VENV/bin/python" -m compileall -q "$APP/formservice" >/dev/null
  touch "$VENV/.formservice-kompilerad"
fi

# ------------------------------------------------------------ the command for administrators
install_file() {  # source target mode owner group
  local src=$1 target=$2 mode=$3 owner=${4:-root} group=${5:-root}
  if ! cmp -s "$src" "$target" || [ "$(stat -c '%U:%G %a' "$target")" != "$owner:$group ${mode#0}" ]; then
    step "Installerar $target"
    install -o "$owner" -g "$group" -m "$mode" "$src" "$target"
  fi
}
install_file "$APP/deploy/formservice" /usr/local/bin/formservice 0755

# ------------------------------------------------------------ systemd units
for unit in "${UNITS[@]}"; do
  install_file "$APP/deploy/systemd/$unit" "/etc/systemd/system/$unit" 0644
done

# ------------------------------------------------------------ the environment file, never overwritten
if [ ! -f "$ENV_FILE" ]; then
  step "Skapar $ENV_FILE från deploy/miljo.exempel"
  tmp="$(mktemp "$ETC/.miljo.XXXXXX")"
  if [ -n "${FORMSERVICE_DATABASE_URL:-}" ]; then
    # Replaced by exact line match, not by sed: the URL holds characters sed would read.
    while IFS= read -r line || [ -n "$line" ]; do
      if [ "$line" = "FORMSERVICE_DATABASE_URL=" ]; then line="FORMSERVICE_DATABASE_URL=$FORMSERVICE_DATABASE_URL"; fi
      printf '%s\n' "$line"
    done < "$APP/deploy/miljo.exempel" > "$tmp"
  else
    cp "$APP/deploy/miljo.exempel" "$tmp"
  fi
  chown "root:$SERVICE_USER" "$tmp"; chmod 0640 "$tmp"; mv "$tmp" "$ENV_FILE"
elif [ -n "${FORMSERVICE_DATABASE_URL:-}" ] && ! grep -qxF "FORMSERVICE_DATABASE_URL=$FORMSERVICE_DATABASE_URL" "$ENV_FILE"; then
  note "Obs: $ENV_FILE finns redan och ändras inte; rätta FORMSERVICE_DATABASE_URL där om den ska bytas."
fi
if ! grep -qE '^FORMSERVICE_DATABASE_URL=.+' "$ENV_FILE"; then
  say "Fyll i FORMSERVICE_DATABASE_URL i $ENV_FILE (deploy/postgresql.sh skriver ut den) och kör skriptet igen."
  exit 1
fi

# ------------------------------------------------------------ instance folder and database
FS=/usr/local/bin/formservice
if [ ! -f "$INSTANCE/keys.json" ] || [ ! -f "$INSTANCE/config.py" ]; then
  step "Skapar instansmappen $INSTANCE (hemlig nyckel och krypteringsnycklar)"
  "$FS" init-instance
fi
# Migrations: quick when there are none, and the unit runs them again at every start.
log="$(mktemp /tmp/formservice-init-db.XXXXXX)"
if ! "$FS" init-db >"$log" 2>&1; then
  grep -v ' INFO dbos: ' "$log" >&2 || true; rm -f "$log"; say "init-db misslyckades"; exit 1
fi
grep -v ' INFO dbos: ' "$log" | sed 's/^/    /' >&2 || true
rm -f "$log"
"$FS" check >/dev/null || { say "formservice check hittade fel (se ovan)"; exit 1; }

# ------------------------------------------------------------ start (where systemd runs)
if [ -d /run/systemd/system ]; then
  [ "$changed" = 0 ] || systemctl daemon-reload
  for unit in formservice.service formservice-backup.timer formservice-gallring.timer; do
    systemctl is-enabled --quiet "$unit" || { step "Slår på $unit"; systemctl enable --now --quiet "$unit"; }
  done
  # New code or packages: the running service is restarted to use them.
  [ "$changed" = 0 ] || systemctl restart formservice.service
else
  note "systemd körs inte här: enheterna är installerade men inte startade."
fi

"$FS" login-help
if [ "$changed" = 0 ]; then say "Inget att ändra: formservice är installerad."; else say "formservice är installerad."; fi
