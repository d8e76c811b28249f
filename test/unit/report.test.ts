import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { SessionInfo } from '../../src/core/api/app'
import { CLASS_LABELS } from '../../src/core/api/classes'
import { artefactProducers } from '../../src/core/backend/artefacts'
import { loadModelCard } from '../../src/core/model/card'
import { DESCRIPTORS_NOTE } from '../../src/core/api/wording'
import { probabilityText, renderExamReport } from '../../src/core/reports/exam-report'
import { openRepository } from '../../src/core/sessions/open'
import { hasStackTrace, phonoscope } from '../helpers/cli'
import { writeTone } from '../helpers/geometry'
import { describedExam, exam as plainExam } from '../helpers/sessions'
import { SHIPPED_MODEL, shippedModelAvailable } from './model-fixture'

const CIRCOR = join(process.env.PHONOSCOPE_DATA ?? join(__dirname, '../../../shared/data'), 'circor', 'audio')
const poppler = spawnSync('pdftotext', ['-v']).status === 0
const data = (() => {
  try {
    return readdirSync(CIRCOR).length > 0
  } catch {
    return false
  }
})()

const pdfText = (pdf: string): string => execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' })
const pdfInfo = (pdf: string): string => execFileSync('pdfinfo', [pdf], { encoding: 'utf8' })

/** The standard deviation of a binary PPM's bytes (what pdfimages writes by default): 0 for a flat picture. */
function spread(ppm: string): number {
  const bytes = readFileSync(ppm)
  const header = /^P6\s+\d+\s+\d+\s+255\s/.exec(bytes.subarray(0, 40).toString('latin1'))!
  const pixels = bytes.subarray(header[0].length)
  let [sum, squares] = [0, 0]
  for (const b of pixels) [sum, squares] = [sum + b, squares + b * b]
  const mean = sum / pixels.length
  return Math.sqrt(squares / pixels.length - mean * mean)
}

describe.runIf(poppler && data && shippedModelAvailable())('the PDF report of an examination', () => {
  const home = mkdtempSync(join(tmpdir(), 'phonoscope-report-'))
  const env = { PHONOSCOPE_HOME: home }
  let exam: SessionInfo
  let pdf: string

  beforeAll(async () => {
    // one CirCor patient's four sites, and a silent fifth recording that the quality gate must refuse to grade
    const folder = mkdtempSync(join(tmpdir(), 'phonoscope-report-in-'))
    const patient = readdirSync(CIRCOR)
      .filter((f) => f.endsWith('_AV.flac'))
      .map((f) => f.split('_')[0]!)
      .sort()[0]!
    for (const site of ['AV', 'PV', 'TV', 'MV'])
      copyFileSync(join(CIRCOR, `${patient}_${site}.flac`), join(folder, `${patient}_${site}.flac`))
    writeTone(join(folder, `${patient}_Phc.wav`), { seconds: 12, hz: 300, from: 0, to: 0 })
    Object.assign(process.env, env)
    const imported = phonoscope('import', folder, '--json')
    expect(imported.status, imported.stderr).toBe(0)
    const listed = phonoscope('sessions', 'list', '--json')
    const id = (JSON.parse(listed.stdout) as { id: string }[])[0]!.id
    exam = await openRepository(home).get(id)
    pdf = join(home, 'report.pdf')
    const made = phonoscope('report', id, '--out', pdf)
    expect(made.status, made.stderr).toBe(0)
  }, 120_000)

  it("holds, as text, the patient id, every verdict with its three probabilities, and the model's version", () => {
    const text = pdfText(pdf)
    expect(text).toContain(exam.patient)
    expect(text).toContain(exam.id)
    expect(text).toContain(exam.model.version!)
    expect(exam.verdict).toBeDefined()
    expect(text).toMatch(new RegExp(`Patient verdict\\s+(${CLASS_LABELS[exam.verdict!]}|Uncertain)`))
    for (const site of exam.sites.filter((s) => s.probabilities)) {
      expect(text).toContain(`Probabilities: ${probabilityText(site.probabilities!)}`)
    }
    expect(text).toContain('Decision support, not a diagnosis')
  })

  it('never grades the silent recording, and says why', () => {
    const silent = exam.sites.find((s) => s.site === 'Phc')!
    expect(silent.verdict).toBeUndefined()
    expect(pdfText(pdf)).toMatch(/Phc \(Other site\): Withheld: insufficient quality: [a-z ,]*silence/)
  })

  it('numbers every page, renders them, and draws each recorded site as a non-blank image at print resolution', () => {
    const pages = Number(/Pages:\s+(\d+)/.exec(pdfInfo(pdf))![1])
    expect(pages).toBeGreaterThan(1)
    const text = pdfText(pdf)
    for (let page = 1; page <= pages; page++) expect(text).toContain(`Page ${page} of ${pages}`)
    expect(pdfInfo(pdf)).toMatch(/Page size:\s+595.28 x 841.89 pts \(A4\)/)

    const rendered = mkdtempSync(join(tmpdir(), 'phonoscope-report-pages-'))
    execFileSync('pdftoppm', ['-r', '40', '-gray', pdf, join(rendered, 'page')])
    expect(readdirSync(rendered)).toHaveLength(pages)

    // one picture per recorded site; each wide enough for 300 dpi across its printed width, and never flat
    const list = execFileSync('pdfimages', ['-list', pdf], { encoding: 'utf8' }).trim().split('\n').slice(2)
    const drawn = exam.sites.filter((s) => s.duration_s > 0).length
    expect(list).toHaveLength(drawn)
    for (const row of list) {
      const [, , , width, , , , , , , , , xPpi] = row.trim().split(/\s+/)
      expect(Number(width)).toBeGreaterThan(1500)
      expect(Number(xPpi)).toBeGreaterThanOrEqual(299)
    }
    const images = mkdtempSync(join(tmpdir(), 'phonoscope-report-images-'))
    execFileSync('pdfimages', [pdf, join(images, 'site')])
    const pictures = readdirSync(images)
    expect(pictures).toHaveLength(drawn)
    for (const image of pictures) expect(spread(join(images, image))).toBeGreaterThan(20)
  })

  it('shows where the model looked at an imported site (its windows keep their attention)', () => {
    const graded = exam.sites.filter((s) => s.verdict)
    expect(graded.length).toBeGreaterThan(0)
    for (const site of graded) expect(site.windows.length).toBeGreaterThan(0)
    expect(pdfText(pdf)).toContain('heat: where the model looked for its verdict')
  })

  it('prints on US Letter, and prints a name the standard fonts lack in Latin letters, marked', async () => {
    const repository = openRepository(home)
    await repository.savePatient({ id: exam.patient, name: 'Łukasz Ωmega', age_group: 'adult' })
    await repository.update(exam.id, (info) => {
      info.notes = 'Soft systolic murmur at the left sternal border.'
      info.finding = { murmur: 'yes', grade: 2 }
    })
    const produce = artefactProducers(repository, loadModelCard(SHIPPED_MODEL))
    const letter = join(home, 'letter.pdf')
    writeFileSync(letter, (await produce.pdf({ session: exam.id, paper: 'letter' })).bytes)
    expect(pdfInfo(letter)).toMatch(/Page size:\s+612 x 792 pts \(letter\)/)
    const text = pdfText(letter)
    expect(text).toContain('Lukasz Omega†')
    expect(text).toContain('spelt in Latin letters for printing')
    expect(text).toContain('Murmur heard, grade II/VI')
    expect(text).toContain('Soft systolic murmur at the left sternal border.')
    expect(text).toContain("trained on children's recordings")
  })

  it('refuses an unknown examination and a bad paper size with a message, not a stack trace', () => {
    const unknown = phonoscope('report', '20200101-000000-zzzz', '--out', join(home, 'x.pdf'))
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toMatch(/20200101-000000-zzzz/)
    const paper = phonoscope('report', exam.id, '--out', join(home, 'y.pdf'), '--paper', 'a3')
    expect(paper.status).toBe(2)
    expect(paper.stderr).toMatch(/--paper: must be a4 or letter/)
    for (const run of [unknown, paper]) expect(hasStackTrace(run.stderr)).toBe(false)
  })
})

describe.runIf(poppler)("the PDF report of a murmur site's descriptors", () => {
  const render = async (session: SessionInfo): Promise<string> => {
    const pdf = join(mkdtempSync(join(tmpdir(), 'phonoscope-report-descriptors-')), 'r.pdf')
    const input = { session, generated: '2026-01-02T10:00:00.000Z', recordings: {}, unreadable: {} }
    writeFileSync(pdf, await renderExamReport(input))
    // one line of text per paragraph, however pdftotext broke it
    return pdfText(pdf).replace(/\s+/g, ' ')
  }

  it('lists each in words with its confidence, the uncertain one marked, and says what they are', async () => {
    const text = await render(describedExam('20260101-100000-aaaa'))
    expect(text).toContain(
      'Murmur descriptors: Timing: holosystolic (72%) · Shape: plateau (55%) · Pitch: high (41%, uncertain) · ' +
        'Quality: harsh (65%) · Diastolic murmur: no (90%) · Heard at this site: yes (80%)',
    )
    expect(text).toContain(DESCRIPTORS_NOTE)
  })

  it('lists none for a site without them', async () => {
    const text = await render(plainExam('20260101-100000-aaaa'))
    expect(text).not.toContain('Murmur descriptors')
    expect(text).not.toContain(DESCRIPTORS_NOTE)
  })
})
