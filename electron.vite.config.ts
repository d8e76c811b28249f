import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'electron-vite'

// One alias for every layer: `import type { ... } from '@core/api'`. Mirrored in tsconfig.node.json and
// tsconfig.web.json ("paths"); a vitest config needs the same `resolve.alias`.
const alias = { '@core': resolve(import.meta.dirname, 'src/core') }

const { version } = JSON.parse(readFileSync(resolve(import.meta.dirname, 'package.json'), 'utf8')) as {
  version: string
}

export default defineConfig({
  main: {
    resolve: { alias },
    build: {
      // Dependencies stay in node_modules (electron-vite externalizes them by default); the native
      // onnxruntime-node binding must never be bundled. When packaging, keep *.node and *.onnx out of
      // the asar archive (electron-builder: asarUnpack ["**/*.node", "**/*.onnx"]).
      externalizeDeps: true,
      rolldownOptions: {
        input: {
          index: resolve(import.meta.dirname, 'src/main/index.ts'),
          'inference-host': resolve(import.meta.dirname, 'src/main/inference-host.ts'),
          // import's decode + front end + segmentation, off the main process's thread (RecordingPool)
          'recording-worker': resolve(import.meta.dirname, 'src/core/analysis/recording-worker.ts'),
        },
        external: ['onnxruntime-node'],
      },
    },
  },
  preload: {
    resolve: { alias },
    define: { __APP_VERSION__: JSON.stringify(version) },
    build: {
      // A sandboxed preload can require() only 'electron' and a few built-ins, and cannot be an ES module:
      // bundle everything else into one CommonJS file.
      externalizeDeps: false,
      rolldownOptions: {
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    resolve: { alias },
    plugins: [vue()],
  },
})
