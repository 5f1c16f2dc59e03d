#!/usr/bin/env bash
# The production recipe end to end, as root inside a fresh Debian 12 root with PostgreSQL installed
# and this repository at /root/formservice (no systemd there: the units' ExecStart, User,
# WorkingDirectory and EnvironmentFile are used by hand). Installs test tools (curl, nginx-light,
# systemd for systemd-analyze, openssl, procps); starts and stops PostgreSQL, nginx and the service.
# Proves: postgresql.sh, installera.sh (twice: the second run changes no file), systemd-analyze verify,
# the service under PostgreSQL, the first admin and the user commands, sign-in through nginx with TLS
# on a non-default port, one line for a wrong password or port, the backup and gallring units.
set -euo pipefail
t0=$SECONDS
ts() { echo "[$(date -u +%T) +$((SECONDS - t0))s] ### $*"; }
UNIT=/etc/systemd/system/formservice.service
svc=""
cleanup() {  # what this script started, by id: nginx (its pid file), the service, PostgreSQL
  nginx -s stop 2>/dev/null || true
  if [ -n "$svc" ]; then
    # The gunicorn master is runuser's child, somewhere below $svc (a subshell): it ends its workers.
    descendants() { local p; for p in $(pgrep -P "$1"); do echo "$p"; descendants "$p"; done; }
    for pid in $(descendants "$svc"); do
      parent="$(ps -o ppid= -p "$pid" | tr -d ' ')" || continue
      case "$(tr '\0' ' ' < "/proc/$parent/cmdline" 2>/dev/null)" in runuser*) echo "TERM to $pid"; kill -TERM "$pid" ;; esac
    done
    wait "$svc" || true
  fi
  pg_ctlcluster 15 main stop || true
}
trap 'echo "FAILED at line $LINENO"; cleanup' EXIT
ts "test tools: curl, nginx, systemd (for systemd-analyze)"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl nginx-light systemd openssl procps >/tmp/tools.log 2>&1
ts "start PostgreSQL"
pg_ctlcluster 15 main start || true
pg_lsclusters
ts "deploy/postgresql.sh"
url="$(bash /root/formservice/deploy/postgresql.sh)"
echo "URL: $(echo "$url" | sed 's#:[^:@/]*@#:***@#')"
ts "deploy/postgresql.sh again (idempotent)"
bash /root/formservice/deploy/postgresql.sh
ts "deploy/installera.sh (first run)"
FORMSERVICE_DATABASE_URL="$url" bash /root/formservice/deploy/installera.sh /root/formservice
ts "installed"
ls -ld /opt/formservice /var/lib/formservice /var/lib/formservice/instance /var/lib/formservice/nyckelkopior /var/backups/formservice /etc/formservice /etc/formservice/miljo
ls -l /var/lib/formservice/instance
ts "systemd-analyze verify on the installed units"
systemd-analyze verify /etc/systemd/system/formservice.service /etc/systemd/system/formservice-backup.service \
  /etc/systemd/system/formservice-backup.timer /etc/systemd/system/formservice-gallring.service \
  /etc/systemd/system/formservice-gallring.timer && echo "verify: OK"

unit_run() {  # unit-file, key: run that ExecStart line as the unit does (user, env file, environment, cwd)
  local unit=$1 key=$2 envfile cmd
  envfile="$(sed -n 's/^EnvironmentFile=//p' "$unit")"
  cmd="$(sed -n "s/^$key=//p" "$unit")"
  mapfile -t settings < <(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$envfile")
  mapfile -t unit_env < <(sed -n 's/^Environment=//p' "$unit")
  echo "    as $(sed -n 's/^User=//p' "$unit") in $(sed -n 's/^WorkingDirectory=//p' "$unit"): $cmd"
  (cd "$(sed -n 's/^WorkingDirectory=//p' "$unit")" &&
   exec runuser -u "$(sed -n 's/^User=//p' "$unit")" -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
     LANG=C.UTF-8 "${settings[@]}" "${unit_env[@]}" $cmd)
}
ts "ExecStartPre (init-db) as the unit runs it"
unit_run $UNIT ExecStartPre 2>&1 | grep -v ' INFO dbos: '
ts "ExecStart in the background"
unit_run $UNIT ExecStart >/tmp/service.log 2>&1 &
svc=$!
for i in $(seq 1 60); do curl -fsS http://127.0.0.1:5000/healthz >/dev/null 2>&1 && break; sleep 1; done
ts "service answers after ${i}s"
curl -sS -i http://127.0.0.1:5000/healthz | sed -n '1p;$p'; echo

ts "the first admin, with the CLI (/usr/local/bin/formservice)"
formservice login-help
formservice create-organisation --namn "Exempelstadens kommun" --typ kommun
formservice create-enhet --organisation-id 1 --namn "Förvaltningen"
printf 'Fiktivt-losenord-2026\n' | formservice create-user --username forvaltare --namn "Fia Förvaltare" --role admin --enhet-id 1 --password-stdin
formservice create-user --username oidc.person --namn "Olle Oidc" --role socialsekreterare --enhet-id 1 --oidc-identity 'urn:exempel:olle'
formservice deactivate-user --username oidc.person
formservice reactivate-user oidc.person
printf 'Annat-losenord-2026\n' | formservice reset-password forvaltare --password-stdin
printf 'Fiktivt-losenord-2026\n' | formservice reset-password forvaltare --password-stdin
formservice login-help; echo "(login-help prints nothing once there are users)"

ts "nginx from deploy/nginx-formservice.conf (ports 8443/8080 instead of 443/80, a self-signed cert)"
mkdir -p /etc/ssl/private
openssl req -x509 -newkey rsa:2048 -nodes -keyout /etc/ssl/private/formservice.key -out /etc/ssl/certs/formservice.pem \
  -days 2 -subj /CN=formservice.example.se 2>/dev/null
rm -f /etc/nginx/sites-enabled/default
sed 's/listen 443 /listen 8443 /; s/listen \[::\]:443 /listen [::]:8443 /; s/listen 80;/listen 8080;/; s/listen \[::\]:80;/listen [::]:8080;/' \
  /opt/formservice/deploy/nginx-formservice.conf > /etc/nginx/sites-enabled/formservice
nginx -t 2>&1
nginx
H=(--resolve formservice.example.se:8443:127.0.0.1 -k -sS)
B=https://formservice.example.se:8443
ts "curl through nginx: /healthz, the login page, a sign-in"
curl "${H[@]}" -o /dev/null -w 'healthz %{http_code}\n' $B/healthz
jar=$(mktemp)
page="$(curl "${H[@]}" -c "$jar" -b "$jar" -D /tmp/login.headers $B/logga-in)"
echo "$page" | grep -o '<title>[^<]*</title>'
# The policy lets the browser send its same-origin Referer, which Flask-WTF requires over https.
grep -i '^referrer-policy: same-origin' /tmp/login.headers
csrf="$(echo "$page" | grep -o 'name="csrf_token"[^>]*value="[^"]*"' | sed 's/.*value="//; s/"$//' | head -1)"
# As a browser posts it under that policy: with the page's own address as Referer.
curl "${H[@]}" -c "$jar" -b "$jar" -e "$B/logga-in" -o /dev/null -w 'sign-in with Referer: %{http_code} -> %{redirect_url}\n' \
  --data-urlencode "csrf_token=$csrf" --data-urlencode username=forvaltare --data-urlencode password=Fiktivt-losenord-2026 $B/logga-in
grep -c formservice_session "$jar" | sed 's/^/session cookies in jar: /'
grep formservice_session "$jar" | awk '{print "cookie secure flag:", $4}'
curl "${H[@]}" -b "$jar" -o /tmp/start.html -w 'start page signed in: %{http_code}\n' $B/
grep -o 'Fia Förvaltare' /tmp/start.html | head -1
curl "${H[@]}" -o /dev/null -w 'http->https: %{http_code} %{redirect_url}\n' --resolve formservice.example.se:8080:127.0.0.1 http://formservice.example.se:8080/

ts "a wrong database password and an unused port: one line each"
set +e
runuser -u formservice -- env FORMSERVICE_INSTANCE_PATH=/var/lib/formservice/instance \
  FORMSERVICE_DATABASE_URL="$(echo "$url" | sed 's#:[^:@/]*@#:fel-losenord@#')" /opt/formservice/.venv/bin/formservice init-db; echo "rc=$?"
runuser -u formservice -- env FORMSERVICE_INSTANCE_PATH=/var/lib/formservice/instance \
  FORMSERVICE_DATABASE_URL=postgresql+psycopg://formservice:x@127.0.0.1:1/formservice /opt/formservice/.venv/bin/formservice check; echo "rc=$?"
set -e

ts "the backup and gallring units' ExecStart"
unit_run /etc/systemd/system/formservice-backup.service ExecStart
ls -l /var/backups/formservice /var/lib/formservice/nyckelkopior
unit_run /etc/systemd/system/formservice-gallring.service ExecStart

ts "deploy/installera.sh (second run: nothing may change)"
snap() { find /opt/formservice /etc/formservice /var/lib/formservice /var/backups/formservice /usr/local/bin/formservice /etc/systemd/system \
  -path /var/lib/formservice/instance/cache -prune -o -path '*/__pycache__' -prune -o -name 'gunicorn*.ctl' -prune -o \
  -printf '%p %m %u %g %s %T@\n' 2>/dev/null | sort; }
snap > /tmp/before.txt
bash /opt/formservice/deploy/installera.sh /root/formservice
snap > /tmp/after.txt
if diff /tmp/before.txt /tmp/after.txt; then echo "second run: no file changed"; else echo "second run CHANGED files"; fi

ts "stop"
cleanup
trap - EXIT
tail -5 /tmp/service.log
ts "done"
