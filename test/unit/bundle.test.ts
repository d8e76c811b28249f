import { createHash } from 'node:crypto'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { SessionInfo } from '../../src/core/api/app'
import { readBundle, writeBundle } from '../../src/core/backend/bundle'
import { openRepository } from '../../src/core/sessions/open'
import { hasStackTrace, phonoscope, type CliResult } from '../helpers/cli'
import { corpus } from '../helpers/paths'
import { describedExam, DESCRIPTORS } from '../helpers/sessions'
import { shippedModelAvailable } from './model-fixture'

const { available, dir: circor } = corpus()
const DAY_MS = 86_400_000

const fresh = (name: string): string => mkdtempSync(join(tmpdir(), `phonoscope-bundle-${name}-`))
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
const succeeded = (run: CliResult) => {
  expect(run.status, run.stderr).toBe(0)
  return JSON.parse(run.stdout)
}

/** A ustar archive as a hostile sender could write one: any names, any type, any declared size. */
function tarOf(entries: { name: string; body: string | Uint8Array; size?: string; type?: string }[]): Buffer {
  const blocks: Buffer[] = []
  for (const { name, body, size, type = '0' } of entries) {
    const bytes = Buffer.from(body)
    const header = Buffer.alloc(512)
    header.write(name, 0, 'latin1')
    header.write('0000644\0', 100)
    header.write('0000000\0', 108)
    header.write('0000000\0', 116)
    header.write(size ?? `${bytes.length.toString(8).padStart(11, '0')}\0`, 124)
    header.write('00000000000\0', 136)
    header.write('        ', 148)
    header.write(type, 156)
    header.write('ustar\x0000', 257)
    header.write(
      `${header
        .reduce((sum, b) => sum + b, 0)
        .toString(8)
        .padStart(6, '0')}\0 `,
      148,
    )
    blocks.push(header, bytes, Buffer.alloc((512 - (bytes.length % 512)) % 512))
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)])
}

describe.runIf(available && shippedModelAvailable())('export and import of a bundle (.phono)', () => {
  const home = fresh('home')
  let original: SessionInfo
  let plain: string

  beforeAll(async () => {
    const folder = fresh('in')
    for (const site of ['AV', 'MV'])
      copyFileSync(join(circor, 'audio', `13918_${site}.flac`), join(folder, `13918_${site}.flac`))
    const [id] = succeeded(phonoscope('import', folder, '--sessions', home, '--json')).sessions
    // what identifies someone: a name, a birth year, free text, a device's name
    const store = openRepository(home)
    await store.savePatient({ id: '13918', name: 'Ada Lovelace', birth_year: 2015, sex: 'female' })
    original = await store.update(id, (info) => {
      info.notes = 'seen by Dr Babbage'
      info.source = { kind: 'device', device: "Ada's Eko Core" }
      info.device = "Ada's Eko Core"
      info.finding = { murmur: 'yes', grade: 2, note: 'Lovelace family history' }
    })
    store.close()
    plain = join(home, 'exam.phono')
    const exported = phonoscope('export', id, '--out', plain, '--sessions', home)
    expect(exported.status, exported.stderr).toBe(0)
  }, 120_000)

  it('reads back into an empty store losslessly: the same record, patient, and audio bytes', async () => {
    const other = fresh('other')
    const imported = succeeded(phonoscope('import', plain, '--sessions', other, '--json'))
    expect(imported).toMatchObject({ patients: 1, exams: 1, recordings: 2, skipped: 0, failed: [] })
    const [from, to] = [openRepository(home), openRepository(other)]
    const copy = await to.get(imported.sessions[0])
    expect(copy).toEqual(original)
    expect(await to.patient('13918')).toEqual(await from.patient('13918'))
    for (const site of original.sites) {
      const bytes = readFileSync(to.sitePath(copy.id, site.site))
      expect(sha256(bytes)).toBe(site.sha256)
      expect(bytes).toEqual(readFileSync(from.sitePath(original.id, site.site)))
    }
    // a second time: the same recordings, skipped as a whole
    const again = phonoscope('import', plain, '--sessions', other, '--json')
    expect(again.status).toBe(2)
    expect(JSON.parse(again.stdout)).toMatchObject({ exams: 0, recordings: 0, skipped: 2 })
    expect(await to.list()).toHaveLength(1)
  })

  it('de-identified: no name, birth year, free text or device; a pseudonym, dates shifted by whole days', async () => {
    const bundle = join(home, 'anon.phono')
    const exported = phonoscope('export', original.id, '--out', bundle, '--deidentify', '--sessions', home)
    expect(exported.status, exported.stderr).toBe(0)
    // every word of the bundle but the audio: its record and patient as written, and its entries' names
    const { session, patient, audio } = await readBundle(bundle)
    const text = JSON.stringify({ session, patient, entries: Object.keys(audio) })
    for (const secret of ['Ada', 'Lovelace', 'Babbage', 'Eko', '.flac']) expect(text).not.toContain(secret)
    // a number as a value of its own (the digits of a probability, 0.2015..., are no birth year)
    for (const secret of ['2015', '13918']) expect(text).not.toMatch(new RegExp(`(?<![0-9.])${secret}(?![0-9])`))

    const other = fresh('anon')
    const imported = succeeded(phonoscope('import', bundle, '--sessions', other, '--json'))
    expect(imported).toMatchObject({ patients: 1, exams: 1, recordings: 2, failed: [] })
    const store = openRepository(other)
    const copy = await store.get(imported.sessions[0])
    expect(copy.patient).toMatch(/^anon-[0-9a-f]{8}$/)
    expect(await store.patient(copy.patient)).toEqual({ id: copy.patient, sex: 'female' })
    const shift = Date.parse(original.created) - Date.parse(copy.created)
    expect(shift).toBeGreaterThanOrEqual(DAY_MS)
    expect(shift % DAY_MS).toBe(0)
    expect(copy.id.slice(0, 8)).toBe(copy.created.slice(0, 10).replace(/-/g, ''))
    expect(copy).toMatchObject({ notes: '', source: { kind: 'device' }, finding: { murmur: 'yes', grade: 2 } })
    expect(copy.device).toBeUndefined()
    expect(copy.finding!.note).toBeUndefined()
    // what the model said, and the audio, are untouched
    expect(copy.sites.map(({ imported_from: _, ...s }) => s)).toEqual(
      original.sites.map(({ imported_from: _, ...s }) => s),
    )
    expect(copy.sites.every((s) => s.imported_from === undefined)).toBe(true)
    expect(copy.verdict).toBe(original.verdict)
  })

  it('export refuses an --out that import would not take for a bundle, or cannot write, with exit 2', () => {
    const cases: [string, RegExp][] = [
      [join(home, 'exam.tar'), /--out: must end in \.phono/],
      [join(home, 'no', 'such', 'folder.phono'), /folder\.phono: cannot write: ENOENT/],
      [join(home, 'sessions.phono'), /sessions\.phono: cannot write: EISDIR/],
    ]
    mkdirSync(join(home, 'sessions.phono'))
    for (const [out, message] of cases) {
      const run = phonoscope('export', original.id, '--out', out, '--sessions', home)
      expect(run.status, run.stderr).toBe(2)
      expect(run.stderr).toMatch(message)
      expect(hasStackTrace(run.stderr)).toBe(false)
    }
  })

  describe('a hostile or broken bundle is refused, naming the file and the problem, and nothing is written', () => {
    const cases: [string, () => Buffer | 'huge', RegExp][] = [
      ['path traversal', () => tarOf([{ name: '../../x', body: 'boo' }]), /unexpected entry "\.\.\/\.\.\/x"/],
      ['absolute path', () => tarOf([{ name: '/tmp/x', body: 'boo' }]), /unexpected entry "\/tmp\/x"/],
      ['a link', () => tarOf([{ name: 'AV.wav', body: '', type: '2' }]), /unexpected entry "AV\.wav"/],
      [
        'a size past the end',
        () => tarOf([{ name: 'bundle.json', body: '{}', size: '77777777777\0' }]),
        /bundle\.json: its size runs past the end/,
      ],
      ['a file past the size limit', () => 'huge', /bundle larger than 1024 MiB/],
      ['bad JSON', () => tarOf([{ name: 'bundle.json', body: '{"format": "phono' }]), /bundle\.json is not valid JSON/],
      ['not a tar file', () => Buffer.alloc(4096, 7), /not a Phonoscope bundle/],
      ['no manifest', () => tarOf([{ name: 'AV.wav', body: 'RIFF' }]), /no bundle\.json/],
      [
        'a session id that is a path',
        () => manifestChanged((m) => void (m.session.id = '../../../etc')),
        /bundle\.json: session\.id: not a session id/,
      ],
      [
        'altered audio',
        () => {
          const bundle = readFileSync(plain)
          bundle[bundle.length - 2048] ^= 0xff // a sample of the last recording
          return bundle
        },
        /MV\.wav: its sha256 is not the one its site record names/,
      ],
    ]
    /** The plain export with its bundle.json changed (each recording kept). */
    const manifestChanged = (change: (manifest: { session: SessionInfo }) => void): Buffer => {
      const manifest = { format: 'phonoscope-bundle', version: 1, session: structuredClone(original) }
      change(manifest)
      const audio = readdirSync(join(home, 'sessions', original.id)).filter((f) => f.endsWith('.wav'))
      return tarOf([
        { name: 'bundle.json', body: JSON.stringify(manifest) },
        ...audio.map((name) => ({ name, body: readFileSync(join(home, 'sessions', original.id, name)) })),
      ])
    }
    const root = fresh('hostile')
    const folder = join(root, 'a', 'b')
    mkdirSync(folder, { recursive: true })
    const write = (name: string, content: Buffer | 'huge'): string => {
      const path = join(folder, `${name.replace(/ /g, '-')}.phono`)
      if (content === 'huge') {
        writeFileSync(path, '')
        truncateSync(path, (1 << 30) + 1) // sparse: nothing is read
      } else writeFileSync(path, content)
      return path
    }

    it.each(cases)('%s', async (name, content, message) => {
      const path = write(name, content())
      const error = await readBundle(path).catch((e: unknown) => e)
      expect(error).toMatchObject({ name: 'InputError', message: expect.stringContaining(path) })
      expect((error as Error).message).toMatch(message)
    })

    it('by import: each listed as failed with its reason, exit 2, the store and its surroundings untouched', () => {
      const paths = cases.map(([name, content]) => write(name, content()))
      const home = join(root, 'home')
      const run = phonoscope('import', ...paths, '--sessions', home, '--json')
      expect(run.status, run.stderr).toBe(2)
      const summary = JSON.parse(run.stdout)
      expect(summary).toMatchObject({ exams: 0, recordings: 0 })
      expect(summary.failed.map((f: { path: string }) => f.path)).toEqual(paths)
      cases.forEach(([, , message], i) => expect(summary.failed[i].error).toMatch(message))
      expect(JSON.parse(phonoscope('sessions', 'list', '--json', '--sessions', home).stdout)).toEqual([])
      expect(readdirSync(join(home, 'sessions')).filter((f) => f !== 'patients.json')).toEqual([])
      for (const around of [root, join(root, 'a'), home, join(home, 'sessions')]) {
        expect(existsSync(join(around, 'x'))).toBe(false)
      }
      expect(readdirSync(root).sort()).toEqual(['a', 'home'])
    })
  })

  it('a bundle whose record names no sha256 is still imported once: the second time it is skipped', () => {
    const unnamed = join(fresh('unnamed'), 'unnamed.phono')
    const session = { ...original, sites: original.sites.map(({ sha256: _, ...site }) => site) }
    const store = openRepository(home)
    const audio = Object.fromEntries(
      original.sites.map((s) => [s.site, readFileSync(store.sitePath(original.id, s.site))]),
    )
    writeFileSync(unnamed, writeBundle({ session, audio }))
    const other = fresh('unnamed-home')
    expect(succeeded(phonoscope('import', unnamed, '--sessions', other, '--json'))).toMatchObject({ recordings: 2 })
    const again = phonoscope('import', unnamed, '--sessions', other, '--json')
    expect(again.status).toBe(2)
    expect(JSON.parse(again.stdout)).toMatchObject({ exams: 0, skipped: 2 })
  })

  it('a bundle written and read in process keeps the record whole (writeBundle, readBundle)', async () => {
    const store = openRepository(home)
    const audio = Object.fromEntries(
      original.sites.map((s) => [s.site, readFileSync(store.sitePath(original.id, s.site))]),
    )
    const path = join(fresh('roundtrip'), 'x.phono')
    writeFileSync(path, writeBundle({ session: original, audio }))
    const back = await readBundle(path)
    expect(back.session).toEqual(original)
    expect(back.patient).toBeUndefined()
    expect(Object.keys(back.audio).sort()).toEqual(['AV', 'MV'])
  })
})

describe("a bundle carries a murmur site's descriptors", () => {
  const session = describedExam('20260101-100000-aaaa')
  for (const site of session.sites) delete site.sha256 // no audio in these bundles
  session.sites[0]!.windows = [
    {
      site: 'AV',
      index: 0,
      start_s: 0,
      end_s: 2.5,
      provisional: true,
      probabilities: session.sites[0]!.probabilities!,
      verdict: 'mild',
      descriptors: { diastolic: DESCRIPTORS.diastolic },
      attention: { time: 1, freq: 1, data: [1] },
      first_frame: 0,
      frames: 10,
      provider: 'cpu',
      ms: 1,
    },
  ]
  const read = (info: SessionInfo) => {
    const path = join(fresh('descriptors'), 'x.phono')
    writeFileSync(path, writeBundle({ session: info, audio: {} }))
    return readBundle(path)
  }
  const edited = (edit: (d: Record<string, { label: string; probabilities: Record<string, unknown> }>) => void) => {
    const info = structuredClone(session)
    edit(info.sites[0]!.descriptors as never)
    return info
  }

  it('losslessly, its windows’ too', async () => {
    expect((await read(session)).session).toEqual(session)
  })

  it.each<[string, Parameters<typeof edited>[0], RegExp]>([
    ['an unknown head', (d) => (d.murmur_colour = d.diastolic!), /descriptors\.murmur_colour: unknown parameter/],
    [
      'a label the head does not have',
      (d) => (d.diastolic!.label = 'maybe'),
      /descriptors\.diastolic\.label: not one of no, yes/,
    ],
    [
      'a probability for a label the head does not have',
      (d) => (d.diastolic!.probabilities.maybe = 0.1),
      /descriptors\.diastolic\.probabilities \(label "maybe"\): not one of no, yes/,
    ],
    [
      'a probability outside [0, 1]',
      (d) => (d.audible_here!.probabilities.yes = 1.5),
      /descriptors\.audible_here\.probabilities\.yes: must be between 0 and 1/,
    ],
    [
      'a label without a probability',
      (d) => delete d.systolic_pitch!.probabilities.high,
      /descriptors\.systolic_pitch\.label: has no probability/,
    ],
  ])('refuses %s, naming it', async (_, edit, message) => {
    await expect(read(edited(edit))).rejects.toThrow(message)
  })
})
