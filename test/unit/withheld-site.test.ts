import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { SessionInfo } from '../../src/core/api/app'
import { SessionService } from '../../src/core/sessions/service'
import { SessionStore } from '../../src/core/sessions/store'
import { inProcessRuntime } from '../helpers/runtime'
import { sine, wavBytes } from '../helpers/wav'
import { tinyModel } from './model-fixture'

describe('a recorded site the quality gate refuses', () => {
  it('is saved without a verdict, with its quality reasons, and leaves the patient verdict undecided', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phonoscope-withheld-'))
    const tone = join(dir, 'tone.wav')
    writeFileSync(tone, wavBytes({ samples: sine(440, 12, 4000), sampleRate: 4000 }))
    const service = new SessionService(new SessionStore(join(dir, 'sessions')), await inProcessRuntime(tinyModel()))
    const session = await service.call('session.start', { source: { kind: 'file', path: tone, speed: 0 } })
    const ended = new Promise<SessionInfo>((resolve) =>
      service.on('session', (info) => info.sites[0]!.status === 'done' && resolve(info)),
    )
    await service.call('site.start', { session: session.id, site: 'AV' })
    await ended // the unpaced file ends by itself, and the site is classified
    const info = await service.call('session.stop', { session: session.id })
    const av = info.sites.find((s) => s.site === 'AV')!
    expect(av.status).toBe('done')
    expect(av.quality?.ok).toBe(false)
    expect(av.quality?.reasons.length).toBeGreaterThan(0)
    expect(av.verdict).toBeUndefined()
    expect(av.probabilities).toBeUndefined()
    expect(info.verdict).toBeUndefined()
    await service.close()
  })
})

describe('a graded site that is skipped afterwards', () => {
  it('keeps no verdict of its own, and the patient verdict it made goes with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phonoscope-skip-'))
    const service = new SessionService(new SessionStore(join(dir, 'sessions')), await inProcessRuntime(tinyModel()))
    const session = await service.call('session.start', { source: { kind: 'file', speed: 0 } }) // the sample
    const ended = new Promise<SessionInfo>((resolve) =>
      service.on('session', (info) => info.sites[0]!.status === 'done' && resolve(info)),
    )
    await service.call('site.start', { session: session.id, site: 'AV' })
    const graded = await ended
    expect(graded.sites[0]!.verdict).toBeDefined()
    expect(graded.verdict).toBeDefined()
    const skipped = await service.call('site.skip', { session: session.id, site: 'AV' })
    const av = skipped.sites[0]!
    expect(av.status).toBe('skipped')
    for (const key of ['probabilities', 'verdict', 'verdict_windows', 'quality', 'heart_rate_bpm'] as const) {
      expect(av[key]).toBeUndefined()
    }
    expect(skipped.verdict).toBeUndefined()
    expect(skipped.probabilities).toBeUndefined()
    await service.close()
  })
})
