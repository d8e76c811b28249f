import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { SessionInfo } from '../../src/core/api/app'
import { openRepository } from '../../src/core/sessions/open'
import { hasStackTrace, phonoscope, type CliResult } from '../helpers/cli'
import { corpus, REPO_ROOT } from '../helpers/paths'
import { shippedModelAvailable } from './model-fixture'

const { available, dir: circor } = corpus()
/** util-linux `script`: runs a command on a pseudo-terminal, as a user at a terminal would */
const hasScript = spawnSync('script', ['--version']).status === 0
const RECORDINGS = ['13918_AV.flac', '13918_MV.flac', '14241_PV.flac']

const fresh = (name: string): string => mkdtempSync(join(tmpdir(), `phonoscope-import-${name}-`))
const succeeded = (run: CliResult) => {
  expect(run.status, run.stderr).toBe(0)
  return JSON.parse(run.stdout)
}
/** A folder holding these CirCor recordings under their own names (or others). */
function folderOf(files: Record<string, string>): string {
  const folder = fresh('in')
  for (const [name, from] of Object.entries(files)) copyFileSync(join(circor, 'audio', from), join(folder, name))
  return folder
}
/** An examination as `sessions list --json` gives it (what these tests read of it). */
interface Listed {
  id: string
  patient_id: string
  sites: { site: string }[]
}
const listed = (home: string, ...args: string[]): Listed[] =>
  succeeded(phonoscope('sessions', 'list', '--json', '--sessions', home, ...args))
const record = (home: string, id: string): SessionInfo =>
  succeeded(phonoscope('sessions', 'show', id, '--json', '--sessions', home)).record

interface Classified {
  probabilities: Record<string, number>
  verdict: string | null
  windows: { probabilities: Record<string, number>; start_s: number; end_s: number }[]
}

describe.runIf(available && shippedModelAvailable())('phonoscope import', () => {
  const home = fresh('home')
  const folder = folderOf(Object.fromEntries(RECORDINGS.map((f) => [f, f])))
  let first: Record<string, unknown>
  beforeAll(() => void (first = succeeded(phonoscope('import', folder, '--sessions', home, '--json'))), 120_000)

  it('files CirCor names as patients with an examination and its sites', () => {
    expect(first).toMatchObject({ patients: 2, exams: 2, recordings: 3, skipped: 0, failed: [] })
    expect(first.seconds).toBeGreaterThan(0)
    const exams = listed(home)
    expect(exams.map((e) => [e.patient_id, e.sites.map((s) => s.site)]).sort()).toEqual([
      ['13918', ['AV', 'MV']],
      ['14241', ['PV']],
    ])
    expect(listed(home, '--patient', '14241')).toHaveLength(1)
    // a page: the newest one; the one before it; by status; a bad value is refused by the contract
    const [newest] = listed(home, '--limit', '1')
    expect(newest!.id).toBe(exams.at(-1)!.id)
    expect(listed(home, '--limit', '1', '--before', newest!.id).map((e) => e.id)).toEqual([exams[0]!.id])
    expect(listed(home, '--status', 'complete')).toHaveLength(2)
    expect(listed(home, '--status', 'recording')).toEqual([])
    const refused = phonoscope('sessions', 'list', '--status', 'done', '--sessions', home)
    expect(refused.status).toBe(2)
    expect(refused.stderr).toMatch(/status/)
    expect(phonoscope('sessions', 'list', '--limit', '0', '--sessions', home).stderr).toMatch(/--limit/)
  })

  it('classifies every recording as `classify` does: the same windows, probabilities, and patient verdict', () => {
    const byPatient = new Map(listed(home).map((e) => [e.patient_id, record(home, e.id)]))
    const exam = byPatient.get('13918')!
    const files = ['13918_AV.flac', '13918_MV.flac'].map((f) => join(folder, f))
    const classify = succeeded(phonoscope('classify', ...files, '--session', '--json'))
    const recordings: Classified[] = classify.recordings
    exam.sites.forEach((site, i) => {
      const r = recordings[i]!
      expect(site.windows.map((w) => [w.start_s, w.end_s, w.probabilities])).toEqual(
        r.windows.map((w) => [w.start_s, w.end_s, w.probabilities]),
      )
      expect(site.verdict ?? null).toBe(r.verdict)
      if (r.verdict !== null) expect(site.probabilities).toEqual(r.probabilities)
    })
    expect(exam.probabilities).toEqual(classify.session.probabilities)
    expect(exam.verdict).toBe(classify.session.verdict)
    expect(exam.sites.map((s) => s.imported_from)).toEqual(['13918_AV.flac', '13918_MV.flac'])
  })

  it('a second import of the same audio counts it as skipped and files nothing (exit 2: none imported)', () => {
    // a copy under another name (and a patient given) is the same recording all the same
    copyFileSync(join(folder, '13918_AV.flac'), join(folder, 'copy.flac'))
    const again = phonoscope('import', folder, '--sessions', home, '--json', '--patient', 'MRN-9')
    expect(again.status, again.stderr).toBe(2)
    expect(JSON.parse(again.stdout)).toMatchObject({ patients: 0, exams: 0, recordings: 0, skipped: 4, failed: [] })
    expect(listed(home)).toHaveLength(2)
  })

  it('lists a bad file with its reason and imports the rest; exit 2 when every file fails', () => {
    // a patient id longer than the contract's 64 characters: not a CirCor name
    const mixed = folderOf({ 'visit.flac': '14241_MV.flac', [`${'7'.repeat(65)}_AV.flac`]: '14241_TV.flac' })
    const bad = join(mixed, 'x.wav')
    writeFileSync(bad, Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)))
    const other = fresh('mixed')
    const run = phonoscope('import', mixed, '--sessions', other, '--json', '--patient', 'MRN-1')
    const summary = succeeded(run)
    expect(summary).toMatchObject({ patients: 1, exams: 2, recordings: 2, skipped: 0 })
    expect(summary.failed).toEqual([{ path: bad, error: 'not an audio file (expected WAV or FLAC)' }])
    expect(run.stderr).toContain(`${bad}: not an audio file`)
    // a name that is not CirCor's: one examination of its own, at Phc unless --site says
    expect(listed(other).map((e) => [e.patient_id, e.sites.map((s) => s.site)])).toEqual([
      ['MRN-1', ['Phc']],
      ['MRN-1', ['Phc']],
    ])

    const alone = phonoscope('import', bad, join(mixed, 'missing.wav'), '--sessions', fresh('bad'), '--json')
    expect(alone.status).toBe(2)
    const failed = JSON.parse(alone.stdout).failed
    expect(failed).toHaveLength(2)
    expect(failed).toEqual(
      expect.arrayContaining([
        { path: bad, error: 'not an audio file (expected WAV or FLAC)' },
        { path: join(mixed, 'missing.wav'), error: 'file not found' },
      ]),
    )
    expect(hasStackTrace(alone.stderr)).toBe(false)
  })
})

describe.runIf(available && shippedModelAvailable())('phonoscope sessions delete and rebuild', () => {
  const home = fresh('delete')
  let id: string
  let other: string
  beforeAll(() => {
    const folder = folderOf({
      '14241_AV.flac': '14241_AV.flac',
      '14241_TV.flac': '14241_TV.flac',
      '2530_AV.flac': '2530_AV.flac',
    })
    ;[id, other] = succeeded(phonoscope('import', folder, '--sessions', home, '--json')).sessions
  }, 120_000)
  const audio = () => ['AV', 'TV'].map((site) => join(home, 'sessions', id, `${site}.wav`))

  it('without --yes and no terminal to ask on: refuses, says how, deletes nothing', () => {
    const run = phonoscope('sessions', 'delete', id, '--sessions', home)
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(new RegExp(`session ${id}: .*add --yes to confirm \\(nothing was deleted\\)`))
    expect(
      listed(home)
        .map((e) => e.id)
        .sort(),
    ).toEqual([id, other].sort())
    expect(audio().every((path) => existsSync(path))).toBe(true)
  })

  it.runIf(hasScript)('on a terminal: asks, and deletes only on yes', () => {
    const answering = (answer: string) => {
      const command = [process.execPath, join(REPO_ROOT, 'bin', 'phonoscope.mjs'), 'sessions', 'delete', other]
      const run = spawnSync('script', ['-qec', [...command, '--sessions', home].join(' '), '/dev/null'], {
        input: `${answer}\n`,
        encoding: 'utf8',
        timeout: 60_000,
      })
      expect(run.stdout).toContain(`Delete examination ${other} of patient 2530 and its audio for good? [y/N]`)
      return run
    }
    expect(answering('n').stdout).toContain(`session ${other}: not deleted`)
    expect(listed(home).map((e) => e.id)).toContain(other)
    expect(answering('y').stdout).toContain(`deleted ${other}`)
    expect(listed(home).map((e) => e.id)).toEqual([id])
  })

  it('rebuilds a damaged database from the audio and session.json, keeping the damaged file', () => {
    writeFileSync(join(home, 'phonoscope.db'), Buffer.alloc(8192, 7))
    const broken = phonoscope('sessions', 'list', '--sessions', home)
    expect(broken.status).toBe(2)
    expect(broken.stderr).toContain('`phonoscope sessions rebuild`')
    const rebuilt = succeeded(phonoscope('sessions', 'rebuild', '--json', '--sessions', home))
    expect(rebuilt.sessions).toBe(hasScript ? 1 : 2)
    expect(existsSync(rebuilt.damaged)).toBe(true)
    expect(listed(home).map((e) => e.id)).toContain(id)
  })

  it('with --yes: the examination and its audio are gone', async () => {
    const run = phonoscope('sessions', 'delete', id, '--yes', '--sessions', home)
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toContain(`deleted ${id}`)
    expect(listed(home).map((e) => e.id)).not.toContain(id)
    expect(audio().some((path) => existsSync(path))).toBe(false)
    expect(existsSync(join(home, 'sessions', id))).toBe(false)
    await expect(openRepository(home).get(id)).rejects.toMatchObject({ kind: 'not_found' })
    const again = phonoscope('sessions', 'delete', id, '--yes', '--sessions', home)
    expect(again.status).toBe(2)
    expect(again.stderr).toContain(`session ${id}: not found`)
  })
})
