import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WindowBatch } from '../../src/core/api/inference'
import type { ModelCard } from '../../src/core/api/model-card'
import { classifyFeatures, type Inferer } from '../../src/core/analysis/classify'
import { runRows } from '../../src/core/analysis/evaluate'
import { keepAndClassify } from '../../src/core/analysis/keep'
import type { ManifestRow } from '../../src/core/analysis/manifest'
import { recordingFeatures } from '../../src/core/analysis/recording'
import { RecordingPool } from '../../src/core/analysis/recording-pool'
import { loadModelCard } from '../../src/core/model/card'
import { InputError } from '../../src/core/errors'
import { OnnxModel } from '../../src/core/model/engine'
import { corpus, REPO_ROOT, scratch } from '../helpers/paths'
import { tinyModel } from './model-fixture'

const { available, dir } = corpus()
const FILES = ['13918_AV.flac', '13918_MV.flac', '13918_PV.flac'].map((f) => join(dir, 'audio', f))
const { put } = scratch('phonoscope-pool-')

let card: ModelCard
let model: OnnxModel
beforeAll(async () => {
  const path = tinyModel()
  card = loadModelCard(path)
  model = await OnnxModel.load({ modelPath: path, provider: 'cpu', threads: 1 })
}, 180_000)
afterAll(() => model?.release())

const row = (line: number, path: string): ManifestRow => ({
  line,
  file: path.split('/').pop()!,
  path,
  patientId: `p${line}`,
  label: 'normal',
})

/** The model, except that the first recording's windows wait until another recording's window has run. */
function firstHeldBack(): Inferer {
  let release: () => void
  const released = new Promise<void>((done) => (release = done))
  let first: Float32Array | undefined
  return {
    async infer(input: WindowBatch) {
      first ??= input.data
      if (input.data === first) await released
      const output = await model.infer(input)
      if (input.data !== first) release()
      return output
    },
  }
}

describe.skipIf(!available)('RecordingPool', () => {
  it('gives the features of the main-thread path, in the order asked', async () => {
    const pool = new RecordingPool({ card, jobs: 2 })
    try {
      const pooled = await Promise.all(FILES.map((f) => pool.features(f)))
      for (const [i, file] of FILES.entries()) {
        const { value, features_s } = pooled[i]!
        expect(value).toEqual(await recordingFeatures(file, card.frontend))
        expect(value.data).toBeInstanceOf(Float32Array)
        expect(features_s).toBeGreaterThan(0)
      }
    } finally {
      await pool.close()
    }
  })

  it("classifies as classifyFeatures on this thread does, the windows run by the caller's inferer", async () => {
    const pool = new RecordingPool({ card, jobs: 1 })
    try {
      for (const file of FILES) {
        const features = await recordingFeatures(file, card.frontend)
        const pooled = await pool.classify(file, model)
        expect(pooled.value).toEqual(await classifyFeatures(features, card, model))
        expect(pooled.sample_rate).toBe(features.sampleRate)
      }
    } finally {
      await pool.close()
    }
  })

  it("fails a bad file alone, with the main-thread path's message", async () => {
    const broken = put('broken.wav', 'not audio at all\n'.repeat(5))
    const expected = await recordingFeatures(broken, card.frontend).then(
      () => 'decoded',
      (error: Error) => error.message,
    )
    const pool = new RecordingPool({ card, jobs: 1 })
    try {
      const outcomes = await Promise.allSettled([FILES[0]!, broken, FILES[1]!].map((f) => pool.features(f)))
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
      const reason = (outcomes[1] as PromiseRejectedResult).reason as Error
      expect(reason.message).toBe(expected)
      expect(reason).toBeInstanceOf(InputError) // a user's error stays one across the thread
    } finally {
      await pool.close()
    }
  })

  it("imports as keepAndClassify on this thread does: one decode, the copy's sha256 asked, only the admitted classified", async () => {
    const pool = new RecordingPool({ card, jobs: 1 })
    const { dir: out } = scratch('phonoscope-pool-keep-')
    try {
      for (const [i, file] of FILES.entries()) {
        const asked: string[] = []
        const admit = (sha256: string) => (asked.push(sha256), i !== 1) // the second is "in the store already"
        const here = await keepAndClassify(file, join(out, `here-${i}.wav`), card, model, admit)
        const pooled = await pool.keepAndClassify(file, join(out, `pool-${i}.wav`), model, admit)
        expect(pooled).toEqual(here)
        expect(asked).toEqual([here.sha256, here.sha256])
        expect(readFileSync(join(out, `pool-${i}.wav`))).toEqual(readFileSync(join(out, `here-${i}.wav`)))
        if (i === 1) expect(pooled.result).toBeUndefined()
        else
          expect(pooled.result).toEqual(
            await classifyFeatures(await recordingFeatures(file, card.frontend), card, model),
          )
      }
    } finally {
      await pool.close()
    }
  })
})

/** The worker of the app's main bundle (electron.vite.config.ts), which src/main/index.ts hands the back end. */
const APP_WORKER = join(REPO_ROOT, 'out', 'main', 'recording-worker.js')

describe.skipIf(!available)("the app bundle's recording worker", () => {
  // built by `npm run build` (the test command builds before it tests); missing on CI, the build is broken
  it.skipIf(!existsSync(APP_WORKER) && process.env.CI !== 'true')(
    'runs in a pool and imports as this thread does',
    async () => {
      const pool = new RecordingPool({ card, jobs: 1, worker: pathToFileURL(APP_WORKER) })
      const { dir: out } = scratch('phonoscope-app-worker-')
      try {
        const pooled = await pool.keepAndClassify(FILES[0]!, join(out, 'pool.wav'), model, () => true)
        expect(pooled).toEqual(await keepAndClassify(FILES[0]!, join(out, 'here.wav'), card, model, () => true))
        expect(pooled.result).toBeDefined()
      } finally {
        await pool.close()
      }
    },
  )
})

describe.skipIf(!available)('runRows through the pool', () => {
  it('keeps manifest order when a later recording finishes first, and reports bad rows without stopping', async () => {
    const broken = put('broken-row.wav', 'not audio at all\n'.repeat(5))
    const rows = [row(2, FILES[0]!), row(3, broken), row(4, FILES[1]!), row(5, join(dir, 'nope.flac'))]
    rows.push(row(6, FILES[2]!))
    const run = await runRows(rows, card, firstHeldBack(), { jobs: 2 })
    expect(run.results.map((r) => r.line)).toEqual([2, 4, 6])
    expect(run.failures.map((f) => f.line)).toEqual([3, 5])
    expect(run.failures[1]!.reason).toBe(`${join(dir, 'nope.flac')}: file not found`)
    for (const r of run.results) {
      const main = await classifyFeatures(
        await recordingFeatures(rows.find((x) => x.line === r.line)!.path, card.frontend),
        card,
        model,
      )
      expect(r.probabilities).toEqual(main.probabilities)
      expect(r.windows).toBe(main.windows.length)
    }
  })
})
