import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // the renderer's modules import the platform-free core as @core (electron.vite.config.ts's alias)
  resolve: { alias: { '@core': resolve(import.meta.dirname, 'src/core') } },
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
    // decoding and the ONNX runtime are CPU-bound: two workers match the two cores CI has
    maxWorkers: 2,
  },
})
