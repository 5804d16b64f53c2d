# Shared by the scripts: paths, sudo, port checks and the local environment defaults.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="$ROOT/var"
VENV="$ROOT/.venv"
PIDS="$VAR/pids"
mkdir -p "$VAR" "$PIDS"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

port_open() { # host port
  timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

wait_port() { # host port seconds name
  local i
  for ((i = 0; i < $3 * 2; i++)); do
    port_open "$1" "$2" && return 0
    sleep 0.5
  done
  echo "$4 did not start listening on $1:$2 within $3 s" >&2
  return 1
}

apt_install() {
  say "installing Debian packages: $*"
  if [ -z "${APT_UPDATED:-}" ]; then
    $SUDO apt-get update -q
    APT_UPDATED=1
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

# Local defaults; anything already set in the environment wins.
if [ -z "${FOOTPRINTS_SECRET_KEY:-}" ]; then
  [ -s "$VAR/secret_key" ] || (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$VAR/secret_key")
  FOOTPRINTS_SECRET_KEY="$(cat "$VAR/secret_key")"
  export FOOTPRINTS_SECRET_KEY
fi
export S3_ENDPOINT="${S3_ENDPOINT:-127.0.0.1:8333}"
export S3_ACCESS_KEY="${S3_ACCESS_KEY:-footprints}"
export S3_SECRET_KEY="${S3_SECRET_KEY:-footprints-secret}"
export PATH="$VENV/bin:$PATH"
