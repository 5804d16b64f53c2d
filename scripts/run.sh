#!/usr/bin/env bash
# `make run`: services, migrations, demo data, one worker and the web server; Ctrl-C stops all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

HOST="${FOOTPRINTS_HOST:-127.0.0.1}"
PORT="${FOOTPRINTS_PORT:-5000}"
export DATABASE_URL="${DATABASE_URL:-sqlite:///$VAR/footprints.db}"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://$HOST:$PORT}"
# The demo's mail goes to the local catcher (var/mail, shown at /admin/mail), SMS to var/sms.
if [ -z "${MAIL_SERVER:-}" ]; then
  export MAIL_SERVER=127.0.0.1 MAIL_PORT="${MAIL_PORT:-8025}" MAIL_CATCHER_DIR="$VAR/mail"
  catch_mail=1
fi
export SMS_PROVIDER="${SMS_PROVIDER-file}" SMS_FILE_DIR="${SMS_FILE_DIR:-$VAR/sms}"

"$ROOT/scripts/services.sh" stop web worker mail  # leftovers of a run that was killed
services=(rabbitmq s3)
[[ "$DATABASE_URL" == postgresql* ]] && services+=(postgres)
[ -n "${catch_mail:-}" ] && services+=(mail)
"$ROOT/scripts/services.sh" start "${services[@]}"

cleanup() {
  trap - INT TERM EXIT
  echo
  "$ROOT/scripts/services.sh" stop
}
trap cleanup INT TERM EXIT

footprints db upgrade
footprints storage init
footprints demo --accounts-file "$VAR/demo-accounts.txt"

say "starting one worker (log: var/worker.log)"
celery -A worker.celery_app worker --beat --schedule "$VAR/celerybeat-schedule" \
  --loglevel=INFO --concurrency=1 --without-gossip \
  --without-mingle >"$VAR/worker.log" 2>&1 &
echo $! >"$PIDS/worker.pid"

say "starting the web server (log: var/web.log)"
gunicorn --bind "$HOST:$PORT" --workers 2 --threads 4 --timeout 0 \
  --logger-class web.access_log.RedactingLogger \
  --access-logfile - "web:create_app()" >"$VAR/web.log" 2>&1 &
echo $! >"$PIDS/web.pid"
wait_port "$HOST" "$PORT" 30 "the web server" || { tail -n 30 "$VAR/web.log" >&2; exit 1; }

if [ -n "${MAIL_CATCHER_DIR:-}" ]; then
  mail_line="caught in var/mail, read at http://$HOST:$PORT/admin/mail"
else
  mail_line="sent through $MAIL_SERVER:${MAIL_PORT:-25}"
fi
cat <<MSG

  Footprints is running.
    web        http://$HOST:$PORT/
    API        http://$HOST:$PORT/api/v1/openapi.json
    operators  http://$HOST:$PORT/ops/   (metrics: /metrics, health: /healthz, /readyz)
    S3         http://$S3_ENDPOINT/  (SeaweedFS, data in var/s3)
    mail       $mail_line
    RabbitMQ   amqp://127.0.0.1:5672/
  Demo accounts: printed above when first created, and kept in var/demo-accounts.txt.
  Log in at http://$HOST:$PORT/auth/login . Press Ctrl-C to stop everything.

MSG
# Wait for either child; if one dies, stop the other too.
wait -n
