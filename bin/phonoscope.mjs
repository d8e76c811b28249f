#!/usr/bin/env node
// The `phonoscope` command: runs the TypeScript CLI (src/cli) through tsx, so the CLI, the app and the tests execute
// the very same sources with no separate build step.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/main.ts')
