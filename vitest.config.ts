import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
    // decoding and the ONNX runtime are CPU-bound: two workers match the two cores CI has
    maxWorkers: 2,
  },
})
