#!/usr/bin/env bash
# PostgreSQL for formservice on Debian 12, as root on the database host: a role with a password
# (stock Debian's pg_hba.conf asks for scram-sha-256 over TCP, so a role without one is refused)
# and a database it owns. Idempotent. Prints FORMSERVICE_DATABASE_URL on standard out when it set
# a password (a new role, or --nytt-losenord); everything else goes to standard error, so
#   url="$(deploy/postgresql.sh)"
# catches only the URL. Usage: postgresql.sh [--nytt-losenord] [--roll NAMN] [--databas NAMN] [--värd VÄRD]
set -euo pipefail

role=formservice
database=formservice
host=127.0.0.1
new_password=0
while [ $# -gt 0 ]; do
  case "$1" in
    --nytt-losenord) new_password=1 ;;
    --roll) role="$2"; shift ;;
    --databas) database="$2"; shift ;;
    --värd|--vard) host="$2"; shift ;;
    *) echo "okänt argument: $1 (postgresql.sh [--nytt-losenord] [--roll NAMN] [--databas NAMN] [--värd VÄRD])" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "Kör som root (sudo $0)." >&2; exit 1; }
command -v psql >/dev/null || { echo "PostgreSQL saknas: apt-get install postgresql" >&2; exit 1; }

cd /  # psql as postgres cannot enter the caller's folder (e.g. /root/formservice) and says so
as_postgres() { runuser -u postgres -- "$@"; }
psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 "$@"; }

port="$(as_postgres psql -XtAc 'SHOW port')"
role_exists="$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '${role//\'/\'\'}'")"
password=""
if [ -z "$role_exists" ] || [ "$new_password" = 1 ]; then
  # URL-safe: it goes into the database URL as it is.
  password="$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)"
  # The password through a psql variable on standard in: never in a command line (ps) or a log.
  psql_admin -v role="$role" -v pw="$password" <<'SQL'
SET password_encryption = 'scram-sha-256';
SELECT format(CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role')
                   THEN 'ALTER ROLE %I LOGIN PASSWORD %L' ELSE 'CREATE ROLE %I LOGIN PASSWORD %L' END,
              :'role', :'pw') \gexec
SQL
  if [ -z "$role_exists" ]; then echo "Rollen $role skapad, med ett lösenord (scram-sha-256)." >&2
  else echo "Rollen $role fick ett nytt lösenord (scram-sha-256)." >&2; fi
else
  echo "Rollen $role finns redan; lösenordet ändrades inte (--nytt-losenord sätter ett nytt)." >&2
fi
if [ -z "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '${database//\'/\'\'}'")" ]; then
  as_postgres createdb --owner "$role" --encoding UTF8 --template template0 "$database"
  echo "Databasen $database skapad, ägd av $role." >&2
else
  echo "Databasen $database finns redan." >&2
fi
if [ -n "$password" ]; then
  echo "postgresql+psycopg://$role:$password@$host:$port/$database"
  echo "Sätt URL:en ovan som FORMSERVICE_DATABASE_URL i /etc/formservice/miljo (eller ge den till installera.sh)." >&2
fi
