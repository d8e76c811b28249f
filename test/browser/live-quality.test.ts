import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  accessibilityViolations,
  appUnderTest,
  callFromPage,
  chromiumAvailable,
  screenshot,
  withSecondWindow,
} from '../helpers/browser'
import { sine, wavBytes } from '../helpers/wav'

// A recording the server may replay (PHONOSCOPE_DATA is one of its folders): 24 s of a steady 150 Hz tone, no heart
const RATE = 4000
const data = mkdtempSync(join(tmpdir(), 'phonoscope-live-tone-'))
const TONE = join(data, 'tone.wav')
writeFileSync(TONE, wavBytes({ samples: sine(150, 24, RATE, 0.3), sampleRate: RATE }))

describe.skipIf(!chromiumAvailable())('live verdicts pass the quality gate, in Chromium (shipped model)', () => {
  const app = appUnderTest(['--hop', '2'], { width: 1440, height: 1000 }, [], { PHONOSCOPE_DATA: data })

  it('a tone gets no live grade: the panel says withheld and why, with no heart rate', async () => {
    const { page } = app
    const { other, errors } = await withSecondWindow(app)
    const started = await callFromPage(other, 'session.start', { source: { kind: 'file', path: TONE, speed: 2 } })
    const id = (started.result as { id: string }).id
    await expect.poll(() => page.isVisible('[data-testid=follow-exam]')).toBe(true)
    await page.click('[data-testid=follow-exam]')
    await callFromPage(other, 'site.start', { session: id, site: 'AV' })

    // while the site records, past the gate's minimum: withheld, with the reason, and never a grade
    const site = page.locator('[data-testid=verdict-site]')
    const states: string[] = []
    const labels = new Set<string>()
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      const status = await page.getAttribute('[data-testid=site-AV]', 'data-status')
      const state = (await site.getAttribute('data-state')) ?? ''
      if (states.at(-1) !== state) states.push(state)
      labels.add((await site.locator('[data-testid=verdict-label]').textContent())?.trim() ?? '')
      if (status === 'recording' && state === 'withheld') {
        expect(await site.locator('[data-testid=withheld-reason]').textContent()).toMatch(
          /Insufficient quality: \w.*grading resumes once the sound is clear/s,
        )
        expect(await site.locator('[data-testid=heart-rate]').textContent()).toContain('—')
        expect(await accessibilityViolations(page)).toEqual([])
        await screenshot(page, 'live-withheld')
      }
      if (status === 'done') break
      await page.waitForTimeout(300)
    }
    expect(states).toContain('withheld')
    expect(states).not.toContain('provisional')
    expect(states).not.toContain('live')
    expect([...labels]).toEqual(['—'])
    await callFromPage(other, 'session.stop', { session: id })
    await other.close()
    expect(errors).toEqual([])
  })

  it('the demo (a real heart recording) shows a heart rate beside its live verdict', async () => {
    const { page } = app
    await page.goto(`${app.server.url}?demo=2`)
    const site = page.locator('[data-testid=verdict-site]')
    await expect
      .poll(async () => ['provisional', 'live'].includes((await site.getAttribute('data-state')) ?? ''), {
        timeout: 30_000,
      })
      .toBe(true)
    await expect
      .poll(async () => (await site.locator('[data-testid=heart-rate]').textContent()) ?? '', { timeout: 10_000 })
      .toMatch(/Heart rate \d{2,3} bpm/)
    expect(await accessibilityViolations(page)).toEqual([])
  })
})
