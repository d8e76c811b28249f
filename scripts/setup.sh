#!/usr/bin/env bash
# Everything Phonoscope needs on a fresh Debian-like machine, idempotent and quick when already done:
# system packages (sox for capture, Chromium for browser tests, ...), node_modules, and the Python venv.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(sox libsox-fmt-all pulseaudio chromium poppler-utils xvfb)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${missing[*]} (install them with your package manager)" >&2
  fi
fi

# The Electron binary and onnxruntime's CUDA add-on are downloads that fail offline; the CPU runtime ships in the
# package. On a desktop with internet, drop these to get Electron itself.
export ELECTRON_SKIP_BINARY_DOWNLOAD="${ELECTRON_SKIP_BINARY_DOWNLOAD:-1}"
export ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"
stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

bash scripts/setup-python.sh
