#!/usr/bin/env bash
# Rewrite the README's settings table from storage/settings.py (`footprints settings`).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
table="$(FOOTPRINTS_SECRET_KEY=x python -c 'from storage.settings import settings_table; print(settings_table())')"
python - "$ROOT/README.md" "$table" <<'PY'
import re, sys
path, table = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
start = "<!-- settings: made by `footprints settings` -->\n"
text = re.sub(re.escape(start) + r".*?(?=\n<!-- /settings -->)", lambda _: start + table,
              text, flags=re.S)
open(path, "w", encoding="utf-8").write(text)
PY
