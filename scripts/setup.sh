#!/usr/bin/env bash
# Everything Phonoscope needs on a fresh Debian-like machine, idempotent and quick when already done:
# system packages (sox for capture, Chromium for browser tests, ...), node_modules, and the Python venv.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(sox libsox-fmt-all pulseaudio chromium poppler-utils xvfb espeak-ng)
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

# The Electron binary and onnxruntime's CUDA add-on are downloads from GitHub/NuGet that fail offline; the CPU runtime
# ships in the package. So npm ci always skips them (an offline machine never fails there), and then, unless on CI or
# opted out (PHONOSCOPE_NO_ELECTRON=1, PHONOSCOPE_NO_CUDA=1, or the installers' own ELECTRON_SKIP_BINARY_DOWNLOAD /
# ONNXRUNTIME_NODE_INSTALL=skip), each missing one is fetched by its package's own installer under a time limit.
# A failed fetch is one line saying what is missing, why and how to get it later, never a failed set-up.
opt_out_electron=${PHONOSCOPE_NO_ELECTRON:-${ELECTRON_SKIP_BINARY_DOWNLOAD:-}}
opt_out_cuda=${PHONOSCOPE_NO_CUDA:-}
[ "${ONNXRUNTIME_NODE_INSTALL:-}" = skip ] && opt_out_cuda=1
stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci" >&2
  # better-sqlite3 is compiled (node-gyp), not fetched from GitHub, against this Node's own headers where it has them
  node_prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
  [ -f "$node_prefix/include/node/node.h" ] && export npm_config_nodedir=${npm_config_nodedir:-$node_prefix}
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 ONNXRUNTIME_NODE_INSTALL=skip npm_config_build_from_source=true \
    npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

DOWNLOAD_TIMEOUT_S=${PHONOSCOPE_DOWNLOAD_TIMEOUT_S:-120} # a firewall that drops packets hangs rather than refuses
# what, consequence, command: runs the installer command under the time limit; on failure prints why and the command
fetch() {
  local what=$1 consequence=$2 log
  shift 2
  log=$(mktemp)
  echo "setup: downloading $what" >&2
  local status=0 why
  timeout "$DOWNLOAD_TIMEOUT_S" "$@" >"$log" 2>&1 || status=$?
  if [ $status -eq 0 ]; then why=; elif [ $status -eq 124 ]; then why="no answer in $DOWNLOAD_TIMEOUT_S s"
  else why=$(grep -m1 -E 'Error|error' "$log" || tail -n1 "$log"); fi
  rm -f "$log"
  [ -z "$why" ] && return
  echo "setup: $what is not installed ($why; offline?): $consequence. To get it later: $*" >&2
}

if [ "${CI:-}" != true ] && [ -z "$opt_out_electron" ] && ! node -e "require('electron')" >/dev/null 2>&1; then
  fetch "Electron (the desktop app)" "npm run demo serves the app to a browser instead" \
    node node_modules/electron/install.js
fi
# the CUDA add-on only helps with an NVIDIA GPU (onnxruntime-node fetches it on linux/x64 only)
cuda_lib=node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
if [ "${CI:-}" != true ] && [ -z "$opt_out_cuda" ] && [ "$(uname -sm)" = "Linux x86_64" ] && [ -e /proc/driver/nvidia ] \
  && [ ! -e "$cuda_lib" ]; then
  fetch "onnxruntime's CUDA add-on" "the model runs on the CPU" node node_modules/onnxruntime-node/script/install.js
fi

bash scripts/setup-python.sh
