import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SessionInfo } from '../../src/core/api/app'
import { SAMPLE_RECORDING } from '../../src/core/live/sources'
import { samplesOf } from '../helpers/audio'
import { hasStackTrace, phonoscope } from '../helpers/cli'
import { tinyModel } from './model-fixture'

// a full disk is a 200 KiB tmpfs, which only root can mount; CI runs as root, so there a missing one fails
const isRoot = process.getuid?.() === 0
if (!isRoot && process.env.CI === 'true') throw new Error('the disk-full test needs root to mount a tmpfs')
if (!isRoot) console.warn('disk-full test skipped: mounting a tmpfs needs root')

describe.skipIf(!isRoot)('recording onto a full disk', () => {
  const store = mkdtempSync(join(tmpdir(), 'phonoscope-full-'))
  beforeAll(() => execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', store]))
  afterAll(() => {
    execFileSync('umount', [store])
    rmSync(store, { recursive: true })
  })

  it('stops the site at once naming the folder and what was kept (exit 2); the site is interrupted, its WAV valid, listing works, no temp file', async () => {
    // 30.4 s of 16-bit audio at 4 kHz is 243 kB: it cannot fit
    const recorded = phonoscope(
      'record',
      '--file',
      SAMPLE_RECORDING,
      '--speed',
      '8',
      '--out',
      store,
      '--model',
      tinyModel(),
    )
    expect(recorded.status, recorded.stderr).toBe(2)
    expect(hasStackTrace(recorded.stderr)).toBe(false)
    const [id] = readdirSync(join(store, 'sessions')) // --out is the home: its database and sessions/
    const folder = join(store, 'sessions', id!)
    const message =
      /phonoscope: (.+): the disk is full; site AV stopped, its first ([\d.]+) s are kept in AV\.wav/.exec(
        recorded.stderr,
      )
    expect(message, recorded.stderr).not.toBeNull()
    expect(message![1]).toBe(folder)

    const listed = phonoscope('sessions', 'list', '--sessions', store, '--json')
    expect(listed.status, listed.stderr).toBe(0)
    const [session] = JSON.parse(listed.stdout) as SessionInfo[]
    expect(session!.status).toBe('interrupted')
    const site = session!.sites.find((s) => s.site === 'AV')!
    expect(site.status).toBe('interrupted')
    expect(site.duration_s.toFixed(1)).toBe(message![2])

    const kept = await samplesOf(join(folder, 'AV.wav'))
    expect(kept.length).toBeGreaterThan(4000 * 5) // seconds of it: the database and its WAL share the 200 KiB
    expect(kept.length).toBe(Math.round(site.duration_s * 4000))
    expect(kept).toEqual((await samplesOf(SAMPLE_RECORDING)).slice(0, kept.length))
    expect(readdirSync(folder).sort()).toEqual(['AV.wav', 'session.json']) // no temp file, no lock left
  }, 120_000)
})
