#!/usr/bin/env bash
# The README's main command: set-up, then the live view replaying the sample recording (resources/samples) as if it
# were a stethoscope, with the shipped model giving verdicts. In Electron where its binary and a display are there;
# elsewhere `phonoscope serve` and the address to open in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx --no-install electron-vite build --logLevel warn

electron=$(node -e "try { process.stdout.write(require('electron')) } catch {}")
if [ -n "$electron" ] && [ -x "$electron" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ] || [ "$(uname)" != Linux ]; }; then
  exec "$electron" . --demo
fi

if [ -z "$electron" ] || [ ! -x "$electron" ]; then
  echo "The desktop app (Electron) is not installed (set-up did not download it: offline, CI or opted out): serving the app to a browser" \
    "instead. To get the desktop app: node node_modules/electron/install.js (needs internet), then npm run demo." >&2
else
  echo "No display here: serving the app to a browser instead." >&2
fi
echo "The shipped model on the sample recording, offline:" >&2
npx --no-install phonoscope classify resources/samples/49628_TV.flac
port=${PHONOSCOPE_PORT:-8480}
echo >&2
echo "Open http://127.0.0.1:$port/?demo for the live demo (Ctrl+C stops the server)." >&2
exec npx --no-install phonoscope serve --port "$port" "$@"
