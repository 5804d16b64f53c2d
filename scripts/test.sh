#!/usr/bin/env bash
# `make test`: the services, then the whole suite against a fresh PostgreSQL database.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

started_s3=""
http_answers "${S3_ENDPOINT%:*}" "${S3_ENDPOINT##*:}" || started_s3=1
"$ROOT/scripts/services.sh" start rabbitmq postgres s3
export TEST_DATABASE_ADMIN_URL="${TEST_DATABASE_ADMIN_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"

set +e
if (($#)); then
  python -m pytest "$@"
  status=$?
else
  # The whole suite: two processes (pytest-xdist, a module each at a time) share every test
  # but the chaos ones, each process with its own database, buckets, queues and worker; the
  # chaos tests restart PostgreSQL and RabbitMQ and stop S3 under everyone, so they run alone
  # afterwards.
  python -m pytest -n "${TEST_PROCESSES:-2}" --dist loadfile -m "not chaos"
  status=$?
  python -m pytest -m chaos
  chaos=$?
  ((status)) || status=$chaos
fi
set -e
[ -n "$started_s3" ] && "$ROOT/scripts/services.sh" stop s3
exit $status
