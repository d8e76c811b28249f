import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import type { SessionInfo } from '../../src/core/api/app'
import { accessibilityViolations, appUnderTest, callFromPage, chromiumAvailable, screenshot } from '../helpers/browser'
import { corpus } from '../helpers/paths'

const { available, dir: circor } = corpus()
const recording = (name: string) => ({
  name,
  mimeType: 'audio/flac',
  buffer: readFileSync(join(circor, 'audio', name)),
})
const GARBAGE = { name: 'bad.wav', mimeType: 'audio/wav', buffer: Buffer.from('RIFF, but nothing like a recording') }

const listed = (page: Page) =>
  page.$$eval('[data-testid=exam-list] .who', (whos) => whos.map((w) => w.textContent!.trim()))
const status = (page: Page) => page.textContent('[data-testid=import-status]')

/** Files dropped on the list as a file manager drops them (a DataTransfer of Files on the drop event). */
async function dropOnList(page: Page, file: { name: string; buffer: Buffer }): Promise<void> {
  await page.evaluate(
    ([name, base64]) => {
      const transfer = new DataTransfer()
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
      transfer.items.add(new File([bytes], name))
      const list = document.querySelector('nav.list')!
      for (const type of ['dragenter', 'dragover', 'drop']) {
        list.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }))
      }
    },
    [file.name, file.buffer.toString('base64')] as const,
  )
}

describe.skipIf(!chromiumAvailable() || !available)('importing recordings in the review', () => {
  const app = appUnderTest()

  it('imports picked and dropped files, says what it filed and refused, and the exam is edited, reported, deleted', async () => {
    const { page } = app
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(app.server.url)
    await page.click('[data-testid=nav-review]')
    await expect.poll(() => page.textContent('[data-testid=exam-none]')).toContain('No examination saved yet')

    // one patient's two sites and a file that is no recording, through the file dialog's input
    await page.setInputFiles('[data-testid=import-input]', [
      recording('13918_AV.flac'),
      recording('13918_MV.flac'),
      GARBAGE,
    ])
    await expect.poll(() => status(page)).toContain('Importing 3 files…')
    expect(await page.isDisabled('[data-testid=import-recordings]')).toBe(true)
    await expect.poll(() => status(page), { timeout: 60_000 }).toContain('Imported 2 recordings in 1 exam.')
    const failed = await page.$$eval('[data-testid=import-failed] li', (lis) => lis.map((li) => li.textContent!))
    expect(failed).toHaveLength(1)
    expect(failed[0]).toMatch(/^bad\.wav: \S/)
    expect(failed[0]).not.toMatch(/internal error|phonoscope-upload|\//)
    await expect.poll(() => listed(page)).toEqual(['13918'])
    expect(await accessibilityViolations(page)).toEqual([])
    await screenshot(page, 'records-import-summary')

    // the same recording dropped on the list again: the store has it already
    await dropOnList(page, recording('13918_AV.flac'))
    await expect
      .poll(() => status(page), { timeout: 60_000 })
      .toContain('Imported 0 recordings in 0 exams; 1 recording already in the store.')
    expect(await listed(page)).toEqual(['13918'])

    // the imported exam: both sites, notes edited and kept
    await page.click('[data-testid=exam-list] button:has-text("13918")')
    await expect.poll(() => page.textContent('.head h2')).toContain('13918')
    await page.fill('[data-testid=exam-notes]', 'Imported from CirCor')
    await page.click('[data-testid=exam-save]')
    const id = await page.$eval('[data-testid=exam-list] button.current', (b) => b.dataset.testid!.slice(8))
    await expect
      .poll(async () => ((await callFromPage(page, 'session.get', { session: id })).result as SessionInfo).notes)
      .toBe('Imported from CirCor')
    const exam = (await callFromPage(page, 'session.get', { session: id })).result as SessionInfo
    expect(exam.sites.map((s) => [s.site, s.imported_from])).toEqual([
      ['AV', '13918_AV.flac'],
      ['MV', '13918_MV.flac'],
    ])

    // its report: a PDF that names the patient
    const download = page.waitForEvent('download', { timeout: 60_000 })
    await page.click('[data-testid=exam-report]')
    const report = await download
    expect(report.suggestedFilename()).toMatch(/\.pdf$/)
    const pdf = await report.path()
    expect(readFileSync(pdf).subarray(0, 5).toString('latin1')).toBe('%PDF-')
    expect(execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' })).toContain('13918')

    // deleted only when confirmed
    await page.click('[data-testid=exam-delete]')
    await page.click('[data-testid=delete-cancel]')
    await expect.poll(() => page.isVisible('[data-testid=delete-dialog]')).toBe(false)
    expect(await listed(page)).toEqual(['13918'])
    await page.click('[data-testid=exam-delete]')
    await page.click('[data-testid=delete-confirm]')
    await expect.poll(() => listed(page)).toEqual([])
    expect((await callFromPage(page, 'session.get', { session: id })).error).toBeTruthy()
    expect(errors).toEqual([])
  })
})
