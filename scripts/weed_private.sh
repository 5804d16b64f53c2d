#!/usr/bin/env bash
# Run by services.sh inside `unshare --net --mount`: SeaweedFS in namespaces of its own.
# Its master, volume, filer, WebDAV and admin servers listen on loopback ports that exist only
# in its network namespace; the S3 gateway also answers on a Unix socket in the data folder
# (mode 0700), which services.sh forwards to S3_ENDPOINT. Nothing else is reachable outside.
# Usage: weed_private.sh DATA_DIR WEED_BINARY [weed options...]
set -euo pipefail
data="$1" weed="$2"
shift 2
# weed also listens on Unix sockets with fixed names in /tmp (seaweedfs-filer-grpc-18888.sock
# and the like), where a second server would take over the first one's: give it a /tmp of
# its own. What it needs from under the old /tmp is mounted back through a handle on it.
exec 3</tmp
mount -t tmpfs -o mode=0700 tmpfs /tmp
for path in "$data" "$(dirname "$weed")"; do
  case "$path" in
    /tmp/*)
      mkdir -p "$path"
      # Not canonicalized: mount(8) would resolve the handle back to the new /tmp.
      mount --no-canonicalize --bind "/proc/self/fd/3/${path#/tmp/}" "$path"
      ;;
  esac
done
exec 3<&-
PATH="$PATH:/usr/sbin:/sbin" ip link set lo up
exec "$weed" "$@"
