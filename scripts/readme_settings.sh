#!/usr/bin/env bash
# Rewrite the README's settings tables: the service's from storage/settings.py
# (`footprints settings`), a contest's from judging/contest_settings.py.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
table="$(FOOTPRINTS_SECRET_KEY=x python -c 'from storage.settings import settings_table; print(settings_table())')"
contest="$(FOOTPRINTS_SECRET_KEY=x python -c 'from judging.contest_settings import settings_table; print(settings_table())')"
python - "$ROOT/README.md" "$table" "$contest" <<'PY'
import re, sys
path, table, contest = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path, encoding="utf-8").read()
for start, end, rows in (
    ("<!-- settings: made by `footprints settings` -->\n", "<!-- /settings -->", table),
    ("<!-- contest-settings: made by scripts/readme_settings.sh -->\n",
     "<!-- /contest-settings -->", contest),
):
    text = re.sub(re.escape(start) + r".*?(?=\n" + re.escape(end) + ")",
                  lambda _, s=start, r=rows: s + r, text, flags=re.S)
open(path, "w", encoding="utf-8").write(text)
PY
