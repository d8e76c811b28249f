import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { RuleTester } from 'eslint'
import tseslint from 'typescript-eslint'
import { describe, it } from 'vitest'
import layers from '../../eslint/layers.js'

RuleTester.describe = describe
RuleTester.it = it
RuleTester.itOnly = it.only

// A small tree for the rule to resolve imports in and read the renderer's dependencies from.
const root = mkdtempSync(join(tmpdir(), 'phonoscope-layers-'))
const tree: Record<string, string> = {
  'src/core/errors.ts': 'export class InputError extends Error {}\n',
  'src/core/paths.ts': "import { existsSync } from 'node:fs'\nexport const here = existsSync('.')\n",
  'src/core/api/app.ts': "import { InputError } from '../errors'\nexport const SITES = [InputError]\n",
  'src/core/dsp/frontend.json': '{ "n_mels": 64 }\n',
  'src/core/dsp/fft.ts': "import FFT from 'fft.js'\nexport const fft = FFT\n",
  'src/core/analysis/attention.ts': "import { fft } from '../dsp/fft'\nexport const attention = fft\n",
  'src/core/analysis/manifest.ts': "import { readFileSync } from 'node:fs'\nexport const read = readFileSync\n",
  'src/core/analysis/typed.ts':
    "import type { Stats } from 'node:fs'\nexport type Info = Stats\nexport const typed = 1\n",
  'src/core/analysis/via.ts': "export { read } from './manifest'\n",
  'src/core/live/server-source.ts': "import { WebSocket } from 'ws'\nexport const source = WebSocket\n",
  'src/core/live/late.ts': "export const late = () => import('./server-source')\n",
  'src/preload/bridge.ts': 'export interface PhonoscopeBridge { version: string }\nexport const IPC_CALL = "call"\n',
  'src/preload/index.ts': "import { IPC_CALL } from './bridge'\nexport const channel = IPC_CALL\n",
  'src/server/server.ts': 'export const serve = () => {}\n',
}
for (const [path, text] of Object.entries(tree)) {
  mkdirSync(dirname(join(root, path)), { recursive: true })
  writeFileSync(join(root, path), text)
}

const options = [{ root, browserPackages: ['vue', 'fft.js'] }]
const at = (path: string) => join(root, path)
const valid = (path: string, code: string) => ({ code, filename: at(path), options })
const invalid = (path: string, code: string, message: string | RegExp) => ({
  code,
  filename: at(path),
  options,
  errors: [{ message }],
})

const tester = new RuleTester({ languageOptions: { parser: tseslint.parser } })

tester.run('phonoscope/layers', layers.rules.layers, {
  valid: [
    // a layer imports itself, the layers to its left and the base utilities
    valid('src/core/analysis/x.ts', "import { fft } from '../dsp/fft'\nimport { read } from './manifest'"),
    valid('src/core/sessions/x.ts', "import { InputError } from '../errors'\nimport { SITES } from '@core/api/app'"),
    valid('src/core/paths.ts', "import { InputError } from './errors'"),
    // transports import the core; src/main the bridge
    valid('src/server/x.ts', "import { read } from '../core/analysis/manifest'\nimport { WebSocket } from 'ws'"),
    valid('src/main/index.ts', "import { app } from 'electron'\nimport { IPC_CALL } from '../preload/bridge'"),
    // the renderer: platform-free modules (transitively), browser packages, JSON, types from anywhere
    valid(
      'src/renderer/src/a.ts',
      "import { SITES } from '@core/api/app'\nimport { attention } from '@core/analysis/attention'",
    ),
    valid('src/renderer/src/a.ts', "import frontend from '@core/dsp/frontend.json'\nimport { ref } from 'vue'"),
    valid('src/renderer/src/a.ts', "import { typed } from '@core/analysis/typed'"),
    valid('src/renderer/src/a.ts', "import type { read } from '@core/analysis/manifest'"),
    valid(
      'src/renderer/src/a.ts',
      "import { type Stats } from 'node:fs'\nexport type { source } from '@core/live/server-source'",
    ),
    valid('src/renderer/src/a.ts', "import type { PhonoscopeBridge } from '../../preload/bridge'"),
    valid('src/renderer/src/a.ts', "import worklet from './pcm-tap.worklet.ts?url'"),
    // outside src/ the rule does not apply
    valid('test/unit/x.test.ts', "import { serve } from '../../src/server/server'\nimport { app } from 'electron'"),
  ],
  invalid: [
    invalid(
      'src/core/dsp/x.ts',
      "import { attention } from '../analysis/attention'",
      'src/core/dsp may not import src/core/analysis (layers: api <- audio <- dsp <- model <- analysis <- live <- ' +
        'sessions <- reports <- backend; a layer imports only from those to its left)',
    ),
    // types couple layers as much as values do
    invalid(
      'src/core/api/x.ts',
      "import type { Info } from '@core/analysis/typed'",
      /^src\/core\/api may not import src\/core\/analysis/,
    ),
    invalid('src/core/audio/x.ts', "export * from '../live/late'", /^src\/core\/audio may not import src\/core\/live/),
    invalid('src/core/errors.ts', "import { SITES } from './api/app'", /base utilities import only/),
    invalid(
      'src/core/model/x.ts',
      "import { app } from 'electron'",
      'src/core/model may not import electron (src/core is Electron-free)',
    ),
    invalid(
      'src/core/live/x.ts',
      "import { serve } from '../../server/server'",
      /^src\/core\/live may not import src\/server/,
    ),
    invalid('src/core/extra/a.ts', "import { b } from './b'", /^src\/core\/extra\/a\.ts is in no layer \(layers: api/),
    invalid(
      'src/core/sessions/x.ts',
      "import { a } from '../extra/a'",
      /^src\/core\/sessions may not import src\/core\/extra\/a: it is in no layer$/,
    ),
    invalid(
      'src/cli/x.ts',
      "import { guard } from '../server/security'",
      /^src\/cli may not import src\/server \(transports/,
    ),
    invalid('src/main/x.ts', "import { channel } from '../preload/index'", /^src\/main may not import src\/preload/),
    invalid('src/server/x.ts', "import App from '../renderer/src/App.vue'", 'src/server may not import src/renderer'),
    invalid(
      'src/renderer/src/a.ts',
      "import { read } from '@core/analysis/via'",
      'src/renderer may import only platform-free modules of src/core: src/core/analysis/via.ts -> ' +
        'src/core/analysis/manifest.ts imports node:fs (use `import type` for types)',
    ),
    invalid(
      'src/renderer/src/a.ts',
      "const late = import('@core/live/late')",
      /src\/core\/live\/late\.ts -> src\/core\/live\/server-source\.ts imports ws/,
    ),
    invalid('src/renderer/src/a.ts', "import { here } from '../../core/paths'", /src\/core\/paths\.ts imports node:fs/),
    invalid(
      'src/renderer/src/a.ts',
      "import { join } from 'path'",
      'src/renderer runs in a browser and may not import path',
    ),
    invalid(
      'src/renderer/src/a.ts',
      "import { WebSocketServer } from 'ws'",
      'src/renderer runs in a browser and may not import ws',
    ),
    invalid(
      'src/renderer/src/a.ts',
      "import { IPC_CALL } from '../../preload/bridge'",
      /may import only types from src\/preload\/bridge\.ts/,
    ),
    invalid(
      'src/renderer/src/a.ts',
      "import { serve } from '../../server/server'",
      'src/renderer may not import src/server',
    ),
  ],
})
