#!/usr/bin/env bash
# Install what is missing: ffmpeg, a CJK font and the Python virtualenv. Safe to run again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

missing=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
# The end-to-end tests drive Debian's chromium (Playwright never downloads its own).
command -v chromium >/dev/null || missing+=(chromium)
# The local S3 server runs in a network namespace of its own: `ip` brings its loopback up,
# socat forwards its S3 gateway's socket to 127.0.0.1.
command -v ip >/dev/null || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
command -v socat >/dev/null || missing+=(socat)
# Comic PDFs are checked with pdfinfo and drawn page by page with pdftoppm.
command -v pdfinfo >/dev/null && command -v pdftoppm >/dev/null || missing+=(poppler-utils)
if ((${#missing[@]})); then apt_install "${missing[@]}"; fi

PY="$(command -v python3.11 || command -v python3)"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating the virtualenv in .venv"
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.footprints-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ] || [ "$ROOT/constraints.txt" -nt "$stamp" ]; then
  say "installing the package and its dependencies"
  "$VENV/bin/pip" install -q --disable-pip-version-check -c "$ROOT/constraints.txt" \
    --config-settings editable_mode=compat -e "$ROOT[dev]"
  touch "$stamp"
fi

# The English catalog, compiled from the .po kept in git.
po="$ROOT/web/translations/en/LC_MESSAGES/messages.po"
if [ ! -f "${po%.po}.mo" ] || [ "$po" -nt "${po%.po}.mo" ]; then
  "$VENV/bin/pybabel" compile -d "$ROOT/web/translations"
fi
