import { defineConfig } from 'vitest/config'

// The UI in Debian's Chromium (playwright-core) against `phonoscope serve` and the built renderer (out/renderer):
// one file at a time, since each drives a real server with live audio in real time.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // a UI under test on two busy cores can take seconds to show what it will show
    expect: { poll: { timeout: 15_000, interval: 100 } },
  },
})
