import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SessionService } from '../../src/core/sessions/service'
import { SessionStore } from '../../src/core/sessions/store'
import { inProcessRuntime } from '../helpers/runtime'
import { tinyModel } from './model-fixture'

describe('one examination at a time', () => {
  it('refuses a second session.start while one records, naming it, and allows one once it is finished', async () => {
    const store = new SessionStore(mkdtempSync(join(tmpdir(), 'phonoscope-sessions-')))
    const service = new SessionService(store, await inProcessRuntime(tinyModel()))
    const first = await service.call('session.start', { patient: 'First', source: { kind: 'file', speed: 0 } })
    await expect(service.call('session.start', { source: { kind: 'file', speed: 0 } })).rejects.toThrow(
      `examination ${first.id} (First): is in progress: finish it before starting another`,
    )
    expect(await service.call('sessions.list', {})).toHaveLength(1) // nothing half-made was saved
    await service.call('session.stop', { session: first.id })
    const second = await service.call('session.start', { source: { kind: 'file', speed: 0 } })
    expect(second.id).not.toBe(first.id)
  })
})
