#!/usr/bin/env bash
# The main job on the embedded default: set-up, then the shipped model on the sample recording in resources/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx --no-install phonoscope classify resources/samples/49628_TV.flac "$@"
