#!/usr/bin/env bash
# Creates training/.venv with the pinned requirements. Idempotent: re-runs only when requirements.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=training/.venv
stamp="$venv/.requirements.sha256"
want=$(sha256sum training/requirements.txt | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
python3 -m venv "$venv"
# Where the machine has a local wheel mirror (pip's extra-index-url), use it as the index so pip does not spend
# minutes retrying an unreachable default index; elsewhere the default index is used. CPU wheels for torch.
mirror=$(pip config list 2>/dev/null | sed -n "s/^global.extra-index-url='\([^ ']*\).*/\1/p" | head -n1)
if [ -n "$mirror" ]; then
  export PIP_INDEX_URL="${PIP_INDEX_URL:-$mirror}"
else
  export PIP_EXTRA_INDEX_URL="${PIP_EXTRA_INDEX_URL:-https://download.pytorch.org/whl/cpu}"
fi
echo "setting up $venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check -r training/requirements.txt
echo "$want" > "$stamp"
