#!/usr/bin/env bash
# The one test command (README, CI): set-up, then static checks, build, TypeScript tests, Python tests.
# Ends with one summary line "N passed, N failed, N skipped" over all runners.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; exit 1; }

results=$(mktemp -d)
failed_steps=()
step() { # name, command...
  local name=$1; shift
  echo "=== $name"
  "$@" || failed_steps+=("$name")
}

step lint npm run --silent lint
step typecheck npm run --silent typecheck
step build npx electron-vite build --logLevel warn
step vitest npx vitest run --reporter=default --reporter=json --outputFile.json="$results/vitest.json"
step pytest bash -c "cd training && .venv/bin/python -m pytest -q -p no:cacheprovider --junitxml='$results/pytest.xml'"
step browser npx vitest run --config vitest.browser.config.ts --reporter=default --reporter=json \
  --outputFile.json="$results/browser.json"

# a runner's step that failed counts as a failure even when its report shows none (summarize-tests.mjs)
node scripts/summarize-tests.mjs "vitest=$results/vitest.json" "pytest=$results/pytest.xml" \
  "browser=$results/browser.json" "--failed-steps=$(IFS=,; echo "${failed_steps[*]}")"
summary=$?
if [ ${#failed_steps[@]} -gt 0 ] || [ $summary -ne 0 ]; then
  echo "failed steps: ${failed_steps[*]:-none (failures in the reports)}"
  exit 1
fi
