# Shared by the scripts: paths, sudo, port checks and the local environment defaults.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# FOOTPRINTS_VAR_DIR: another install's data folder (the tests start servers of their own).
VAR="${FOOTPRINTS_VAR_DIR:-$ROOT/var}"
VENV="$ROOT/.venv"
PIDS="$VAR/pids"
mkdir -p "$VAR" "$PIDS"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

port_open() { # host port
  timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

http_answers() { # host port: an HTTP server answers there (a forwarder alone does not)
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "HEAD / HTTP/1.0\r\n\r\n" >&3 \
    && head -c 7 <&3' _ "$1" "$2" 2>/dev/null | grep -q '^HTTP/1'
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
export S3_KEYS_FILE="${S3_KEYS_FILE:-$VAR/s3-keys}"

random_hex() { # bytes
  head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'
}

write_s3_keys() { # [access secret]: this install's S3 keys, random unless given; kept if present
  local tmp="$S3_KEYS_FILE.$$"
  (umask 077 && printf 'S3_ACCESS_KEY=%s\nS3_SECRET_KEY=%s\n' "${1:-fp$(random_hex 9)}" \
    "${2:-$(random_hex 24)}" >"$tmp")
  # ln, not mv: of scripts starting at once, the first one's keys win and all read them.
  ln "$tmp" "$S3_KEYS_FILE" 2>/dev/null || true
  rm -f "$tmp"
}

load_s3_keys() { # each key from the environment when set, else from S3_KEYS_FILE
  local name value access="" secret=""
  if [ ! -s "$S3_KEYS_FILE" ]; then
    # A server from before the keys were made per install still runs with its own; keep
    # them until it is restarted (services.sh then replaces the published pair).
    if [ -s "$VAR/s3/identities.json" ] \
      && http_answers "${S3_ENDPOINT%:*}" "${S3_ENDPOINT##*:}"; then
      # shellcheck disable=SC2046
      write_s3_keys $(python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["identities"][0]["credentials"][0]
print(c["accessKey"], c["secretKey"])' "$VAR/s3/identities.json")
    else
      write_s3_keys
    fi
  fi
  while IFS='=' read -r name value; do
    case "$name" in
      S3_ACCESS_KEY) access="$value" ;;
      S3_SECRET_KEY) secret="$value" ;;
    esac
  done <"$S3_KEYS_FILE"
  S3_KEYS_FROM_FILE=""
  [ -n "${S3_ACCESS_KEY:-}${S3_SECRET_KEY:-}" ] || S3_KEYS_FROM_FILE=1
  export S3_ACCESS_KEY="${S3_ACCESS_KEY:-$access}" S3_SECRET_KEY="${S3_SECRET_KEY:-$secret}"
}
load_s3_keys
export PATH="$VENV/bin:$PATH"
