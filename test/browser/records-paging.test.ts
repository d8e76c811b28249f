import { describe, expect, it } from 'vitest'
import { LIST_PAGE } from '../../src/core/api/app'
import { openRepository } from '../../src/core/sessions/open'
import { appUnderTest, chromiumAvailable } from '../helpers/browser'
import { exam } from '../helpers/sessions'

const rows = (page: import('playwright-core').Page) => page.$$eval('[data-testid=exam-list] li', (li) => li.length)

describe.skipIf(!chromiumAvailable())('the examination list in pages', () => {
  const app = appUnderTest()

  it('shows the newest page, adds the older ones when asked, keeps them when listing again', async () => {
    // filed by another process on the same store (the CLI's import, say): the server lists them all the same
    const store = openRepository(app.sessions)
    const ids = Array.from({ length: LIST_PAGE + 5 }, (_, i) => {
      const day = new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString()
      return `${day.slice(0, 10).replaceAll('-', '')}-${day.slice(11, 19).replaceAll(':', '')}-aaaa`
    })
    for (const [i, id] of ids.entries()) await store.create(exam(id, { patient: `MRN ${i}` }))
    await store.letGoAll()
    store.close()

    const { page } = app
    await page.goto(app.server.url)
    await page.click('[data-testid=nav-review]')
    await expect.poll(() => rows(page)).toBe(LIST_PAGE)
    expect(await page.textContent('[data-testid=exam-list] li:first-child')).toContain(`MRN ${ids.length - 1}`)
    await page.click('[data-testid=exam-older]')
    await expect.poll(() => rows(page)).toBe(ids.length)
    expect(await page.textContent('[data-testid=exam-list] li:last-child')).toContain('MRN 0')
    expect(await page.isVisible('[data-testid=exam-older]')).toBe(false) // nothing older

    // listing again (as after an edit or an import) keeps the older page; a new filter starts from its newest
    await page.click('.list header button:has-text("Refresh")')
    await page.waitForTimeout(300)
    expect(await rows(page)).toBe(ids.length)
    await page.fill('[data-testid=exam-search]', 'MRN 1')
    await expect.poll(() => rows(page)).toBe(ids.filter((_, i) => String(i).startsWith('1')).length)
    expect(await page.isVisible('[data-testid=exam-older]')).toBe(false)
  })
})
