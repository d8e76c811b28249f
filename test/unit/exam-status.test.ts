import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EXAM_SITES, sitesToDo } from '../../src/core/api/app'
import { SessionService } from '../../src/core/sessions/service'
import { SessionStore } from '../../src/core/sessions/store'
import { inProcessRuntime } from '../helpers/runtime'
import { tinyModel } from './model-fixture'

describe('finishing an examination', () => {
  it('files it as incomplete while sites are still to do, and as complete once each is done or skipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phonoscope-exam-status-'))
    const service = new SessionService(new SessionStore(join(dir, 'sessions')), await inProcessRuntime(tinyModel()))
    const early = await service.call('session.start', { source: { kind: 'file', speed: 0 } })
    await service.call('site.skip', { session: early.id, site: 'AV' })
    const unfinished = await service.call('session.stop', { session: early.id })
    expect(sitesToDo(unfinished)).toEqual(['PV', 'TV', 'MV'])
    expect(unfinished.status).toBe('incomplete')
    expect((await service.call('session.get', { session: early.id })).status).toBe('incomplete')

    const skipped = await service.call('session.start', { source: { kind: 'file', speed: 0 } })
    for (const site of EXAM_SITES) await service.call('site.skip', { session: skipped.id, site })
    expect((await service.call('session.stop', { session: skipped.id })).status).toBe('complete')
    await service.close()
  })
})
