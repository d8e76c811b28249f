import { copyFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { SessionInfo } from '../../src/core/api/app'
import { CLASSES, type ClassName } from '../../src/core/api/classes'
import { classifyFeatures } from '../../src/core/analysis/classify'
import { recordingFeatures } from '../../src/core/analysis/recording'
import { importPaths } from '../../src/core/backend/import'
import { SAMPLE_RECORDING } from '../../src/core/live/sources'
import { SessionService, type ModelRuntime } from '../../src/core/sessions/service'
import { SessionStore } from '../../src/core/sessions/store'
import { inProcessRuntime } from '../helpers/runtime'
import { tinyModel } from './model-fixture'

const HEADS = { systolic_timing: ['mid_systolic', 'holosystolic'], diastolic: ['no', 'yes'] }
const fresh = (name: string): string => mkdtempSync(join(tmpdir(), `phonoscope-${name}-`))

/** The runtime with every window's grade replaced by `grade` (0.9): the untrained model's heads describe it. */
function graded(runtime: ModelRuntime, grade: ClassName): ModelRuntime {
  const logProbs = CLASSES.map((c) => Math.log(c === grade ? 0.9 : 0.05))
  return {
    ...runtime,
    inferer: {
      infer: async (input) => {
        const output = await runtime.inferer.infer(input)
        return { ...output, logProbs: Float32Array.from({ length: input.batch * 3 }, (_, i) => logProbs[i % 3]!) }
      },
    },
  }
}

/** The sample recording's AV site recorded in a live session (replayed unpaced). */
async function recorded(runtime: ModelRuntime): Promise<{ service: SessionService; info: SessionInfo }> {
  const service = new SessionService(new SessionStore(fresh('sessions')), runtime)
  const session = await service.call('session.start', { patient: 'test', source: { kind: 'file', speed: 0 } })
  const done = new Promise<SessionInfo>((resolve) =>
    service.on('session', (s) => s.sites[0]!.status === 'done' && resolve(s)),
  )
  await service.call('site.start', { session: session.id, site: 'AV' })
  return { service, info: await done }
}

async function imported(runtime: ModelRuntime, workers?: boolean): Promise<SessionInfo> {
  const folder = fresh('import')
  copyFileSync(SAMPLE_RECORDING, join(folder, '49628_TV.flac'))
  const repository = new SessionStore(fresh('imported'))
  const summary = await importPaths([folder], { repository, model: async () => runtime, workers })
  return repository.get(summary.sessions[0]!)
}

describe("a site's murmur descriptors", () => {
  let heads: ModelRuntime
  let plain: ModelRuntime
  let offline: Awaited<ReturnType<typeof classifyFeatures>>
  beforeAll(async () => {
    heads = await inProcessRuntime(tinyModel({ heads: HEADS }))
    plain = await inProcessRuntime(tinyModel())
    const features = await recordingFeatures(SAMPLE_RECORDING, heads.card.frontend)
    offline = await classifyFeatures(features, heads.card, graded(heads, 'mild').inferer)
  }, 180_000)

  it('a recorded site has those of an offline classify (its verdict windows), and loses them when skipped', async () => {
    expect(offline.verdict).toBe('mild')
    expect(Object.keys(offline.descriptors!)).toEqual(Object.keys(HEADS))
    const { service, info } = await recorded(graded(heads, 'mild'))
    const site = info.sites[0]!
    expect(site.verdict).toBe('mild')
    expect(site.descriptors).toEqual(offline.descriptors)
    // each live window with a (murmur) verdict is described as the site is, by its own heads' outputs
    const described = site.windows.filter((w) => w.verdict !== null)
    expect(described.length).toBeGreaterThan(0)
    for (const w of described) expect(Object.keys(w.descriptors!)).toEqual(Object.keys(HEADS))
    const skipped = await service.call('site.skip', { session: info.id, site: 'AV' })
    expect(skipped.sites[0]).not.toHaveProperty('descriptors')
    await service.close()
  })

  it('an imported site has them as a recorded one', async () => {
    const site = (await imported(graded(heads, 'mild'))).sites[0]!
    expect(site.descriptors).toEqual(offline.descriptors)
    // and its windows theirs: each the offline window's own probabilities
    expect(site.windows.map((w) => w.descriptors?.diastolic?.probabilities)).toEqual(
      offline.windows.map((w) => (w.verdict === null ? undefined : w.descriptors!.diastolic)),
    )
  })

  it('an import classifies alike in worker threads and on its own thread (where no worker script is found)', async () => {
    const runtime = graded(heads, 'mild')
    const [pooled, inThread] = [await imported(runtime, true), await imported(runtime, false)]
    expect(pooled.sites[0]!.descriptors).toBeDefined()
    expect(pooled.sites).toEqual(inThread.sites)
  })

  it('none under a normal verdict, nor from a model without heads', async () => {
    const cases: [ModelRuntime, ClassName][] = [
      [heads, 'normal'],
      [plain, 'moderate_severe'],
    ]
    for (const [model, grade] of cases) {
      const runtime = graded(model, grade)
      const { service, info } = await recorded(runtime)
      expect(info.sites[0]!.verdict).toBe(grade)
      expect(info.sites[0]).not.toHaveProperty('descriptors')
      for (const w of info.sites[0]!.windows) expect(w).not.toHaveProperty('descriptors')
      await service.close()
      expect((await imported(runtime)).sites[0]).not.toHaveProperty('descriptors')
    }
  })
})
