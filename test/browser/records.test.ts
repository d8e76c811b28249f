import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import type { SessionInfo } from '../../src/core/api/app'
import {
  accessibilityViolations,
  appUnderTest,
  callFromPage,
  chromiumAvailable,
  openWithSample,
  screenshot,
} from '../helpers/browser'

const listed = (page: Page) =>
  page.$$eval('[data-testid=exam-list] .who', (whos) => whos.map((w) => w.textContent!.trim()))
const ticks = (page: Page) =>
  page.$eval('[data-testid=waveform-ticks]', (e) => ({ s1: Number(e.dataset.s1), s2: Number(e.dataset.s2) }))
const status = (page: Page, site: string) => page.getAttribute(`[data-testid=site-${site}]`, 'data-status')

async function openExam(page: Page, patient: string): Promise<void> {
  await page.click(`[data-testid=exam-list] button:has-text("${patient}")`)
  await expect.poll(() => page.textContent('.head h2')).toContain(patient)
}

describe.skipIf(!chromiumAvailable())('patient records: the live form, review search, edits, findings, delete', () => {
  const app = appUnderTest(['--hop', '2'], { width: 1440, height: 1000 })

  it('files the patient, ticks S1/S2, filters, keeps edits across a reload, and deletes only when confirmed', async () => {
    const { page } = app
    const errors = await openWithSample(page, app.server.url, 4)
    await page.fill('[data-testid=patient]', 'MRN 1001')

    // the model is paediatric: an adult patient is told so, a child is not
    expect(await page.isVisible('[data-testid=age-warning]')).toBe(false)
    await page.selectOption('[data-testid=patient-age]', 'adult')
    expect(await page.textContent('[data-testid=age-warning]')).toContain("trained on children's recordings")
    expect(await accessibilityViolations(page)).toEqual([])
    for (const width of [1024, 1440]) {
      await page.setViewportSize({ width, height: 900 })
      await screenshot(page, `records-live-form-${width}`)
    }
    await page.selectOption('[data-testid=patient-age]', 'young_adult')
    expect(await page.isVisible('[data-testid=age-warning]')).toBe(true)
    await page.selectOption('[data-testid=patient-age]', 'child')
    expect(await page.isVisible('[data-testid=age-warning]')).toBe(false)
    await page.click('[data-testid=start-session]')

    // live: S1 and S2 ticked on the waveform as the windows find them
    await expect.poll(() => status(page, 'AV')).toBe('recording')
    expect(await page.textContent('[data-testid=waveform-legend]')).toContain('S1 / S2 (detected)')
    await expect.poll(async () => (await ticks(page)).s1, { timeout: 30_000 }).toBeGreaterThan(0)
    expect((await ticks(page)).s2).toBeGreaterThan(0)
    await screenshot(page, 'records-live-ticks')
    await expect.poll(() => status(page, 'AV'), { timeout: 30_000 }).toBe('done')
    // finishing with sites to do asks first; kept recording, then finished: filed as incomplete
    await page.click('[data-testid=finish-session]')
    expect(await page.textContent('[data-testid=finish-question]')).toMatch(/PV, TV, MV are not recorded yet/)
    await page.click('[data-testid=finish-cancel]')
    expect(await page.isVisible('[data-testid=finish-question]')).toBe(false)
    await page.click('[data-testid=finish-session]')
    await page.click('[data-testid=finish-confirm]')
    await expect.poll(() => page.isVisible('[data-testid=review-last]')).toBe(true)
    const filed = (await callFromPage(page, 'sessions.list', {})).result as SessionInfo[]
    expect(filed.map((s) => s.status)).toEqual(['incomplete'])
    expect(await page.inputValue('[data-testid=patient]')).toBe('') // the next exam starts with no one's data
    const patients = (await callFromPage(page, 'patients.list', {})).result
    expect(patients).toEqual([{ id: 'MRN 1001', age_group: 'child' }])

    // a second examination, of another patient, with no site recorded: no verdict (withheld)
    const other = (await callFromPage(page, 'session.start', { patient: 'MRN 2002', source: { kind: 'file' } }))
      .result as SessionInfo
    expect((await callFromPage(page, 'session.stop', { session: other.id })).error).toBeUndefined()

    // review: search, verdict filter, one patient's examinations
    await page.setViewportSize({ width: 1440, height: 1000 })
    await page.click('[data-testid=nav-review]')
    await expect.poll(() => listed(page)).toEqual(['MRN 2002', 'MRN 1001'])
    await page.fill('[data-testid=exam-search]', '1001')
    await expect.poll(() => listed(page)).toEqual(['MRN 1001'])
    await page.fill('[data-testid=exam-search]', 'nobody')
    await expect.poll(() => page.textContent('[data-testid=exam-none]')).toContain('No examination matches')
    await page.click('[data-testid=exam-filter-clear]')
    await page.selectOption('[data-testid=exam-verdict]', 'withheld')
    await expect.poll(() => listed(page)).toContain('MRN 2002')
    expect(await listed(page)).not.toContain('MRN 1001')
    await page.click('[data-testid=exam-filter-clear]')
    await expect.poll(() => listed(page)).toHaveLength(2)

    // a recorded site's S1 and S2 on its waveform
    await openExam(page, 'MRN 1001')
    await expect.poll(async () => (await ticks(page)).s1, { timeout: 30_000 }).toBeGreaterThan(0)
    expect((await ticks(page)).s2).toBeGreaterThan(0)
    expect(await page.locator('[data-testid=heart-sound-tick][data-kind=S1]').count()).toBe((await ticks(page)).s1)

    // edits after the fact: notes, the clinician's finding at a site, the patient's record
    await page.fill('[data-testid=exam-notes]', 'Soft murmur, loudest at the apex')
    await page.click('[data-testid=exam-save]')
    await page.check('[data-testid=site-finding] [data-testid=finding-murmur-yes]')
    await page.selectOption('[data-testid=site-finding] [data-testid=finding-grade]', '2')
    await page.fill('[data-testid=site-finding] [data-testid=finding-note]', 'radiates to the axilla')
    await page.click('[data-testid=site-finding] [data-testid=finding-save]')
    await expect
      .poll(() => page.textContent('[data-testid=site-finding] [data-testid=finding-saved]'))
      .toContain('Murmur heard, grade II/VI')
    await page.fill('[data-testid=patient-record] [data-testid=patient-name]', 'Ada Tester')
    await page.click('[data-testid=patient-save]')
    await expect.poll(() => page.textContent('.head h2')).toContain('Ada Tester')
    expect(await accessibilityViolations(page)).toEqual([])
    for (const width of [1024, 1440]) {
      await page.setViewportSize({ width, height: 1000 })
      await page.evaluate(() => scrollTo(0, 0))
      await screenshot(page, `records-review-${width}`)
      await page.evaluate(() => scrollTo(0, document.body.scrollHeight))
      await screenshot(page, `records-review-bottom-${width}`)
    }
    await page.setViewportSize({ width: 1440, height: 1000 })
    await page.click('[data-testid=theme-toggle]')
    await screenshot(page, 'records-review-bottom-dark-1440')
    await page.click('[data-testid=theme-toggle]')

    // all of it kept: after a reload, found by the patient's name and by the notes
    await page.reload()
    await page.click('[data-testid=nav-review]')
    for (const words of ['ada', 'apex']) {
      await page.fill('[data-testid=exam-search]', words)
      await expect.poll(() => listed(page)).toEqual(['MRN 1001 · Ada Tester'])
    }
    await openExam(page, 'MRN 1001')
    expect(await page.inputValue('[data-testid=exam-notes]')).toBe('Soft murmur, loudest at the apex')
    expect(await page.isChecked('[data-testid=site-finding] [data-testid=finding-murmur-yes]')).toBe(true)
    expect(await page.inputValue('[data-testid=site-finding] [data-testid=finding-note]')).toBe(
      'radiates to the axilla',
    )
    expect(await page.textContent('[data-testid=exam-finding] [data-testid=finding-saved]')).toContain('None')
    await page.click('[data-testid=exam-filter-clear]')
    await expect.poll(() => listed(page)).toHaveLength(2)
    await page.click('[data-testid=exam-patient-history]')
    await expect.poll(() => listed(page)).toEqual(['MRN 1001 · Ada Tester'])
    expect(await page.textContent('[data-testid=exam-patient-filter]')).toContain('MRN 1001')

    // the report: a file, or (while its producer is not there) an error that says so
    const download = page.waitForEvent('download', { timeout: 15_000 }).catch(() => undefined)
    await page.click('[data-testid=exam-report]')
    const report = await Promise.race([
      download.then((d) => d && `file ${d.suggestedFilename()}`),
      page.waitForSelector('[data-testid=review-error]').then((e) => e.textContent()),
    ])
    expect(report).toMatch(/^file .+\.pdf$|^The report could not be made: .+/)

    // delete: asked first, cancel keeps it, confirm removes it and its audio
    await page.click('[data-testid=exam-patient-clear]')
    await expect.poll(() => listed(page)).toHaveLength(2)
    await openExam(page, 'MRN 2002')
    await page.click('[data-testid=exam-delete]')
    const dialog = '[data-testid=delete-dialog]'
    await expect.poll(() => page.isVisible(dialog)).toBe(true)
    expect(await page.textContent(dialog)).toMatch(/MRN 2002[\s\S]*deleted for good/)
    expect(await accessibilityViolations(page)).toEqual([])
    await screenshot(page, 'records-delete-dialog')
    await page.click('[data-testid=delete-cancel]')
    await expect.poll(() => page.isVisible(dialog)).toBe(false)
    expect(await listed(page)).toContain('MRN 2002')
    await page.click('[data-testid=exam-delete]')
    await page.click('[data-testid=delete-confirm]')
    await expect.poll(() => listed(page)).toEqual(['MRN 1001 · Ada Tester'])
    expect((await callFromPage(page, 'session.get', { session: other.id })).error).toBeTruthy()
    expect(errors).toEqual([])
  })
})
