import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../helpers/paths'

const dir = mkdtempSync(join(tmpdir(), 'phonoscope-summary-'))

function report(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

/** Runs scripts/summarize-tests.mjs as scripts/test.sh does. */
function summarize(...args: string[]): { status: number | null; out: string; total: string } {
  const run = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'summarize-tests.mjs'), ...args], {
    encoding: 'utf8',
  })
  const out = run.stdout + run.stderr
  return { status: run.status, out, total: /^total: .*$/m.exec(out)?.[0] ?? out }
}

/** What vitest's JSON reporter wrote for a file whose beforeAll timed out: no failed test, only a skipped one. */
const hookTimeout = JSON.stringify({
  numTotalTestSuites: 2,
  numFailedTestSuites: 2,
  numTotalTests: 1,
  numPassedTests: 0,
  numFailedTests: 0,
  numPendingTests: 1,
  numTodoTests: 0,
  success: false,
  testResults: [
    {
      name: '/repo/test/unit/capture.test.ts',
      status: 'failed',
      message: '',
      assertionResults: [{ fullName: 'capture captures', status: 'skipped', failureMessages: [] }],
    },
  ],
})

const passing = JSON.stringify({
  numPassedTests: 3,
  numFailedTests: 0,
  numPendingTests: 1,
  numTodoTests: 0,
  success: true,
  testResults: [
    {
      name: '/repo/test/unit/a.test.ts',
      status: 'passed',
      message: '',
      assertionResults: ['passed', 'passed', 'passed', 'skipped'].map((status) => ({ status, failureMessages: [] })),
    },
  ],
})

/** pytest's JUnit XML when a test module does not import: one testcase holding an <error>. */
const collectionError = `<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest"
errors="1" failures="0" skipped="0" tests="1"><testcase classname="" name="test_bad" time="0.000"><error
message="collection failure">ModuleNotFoundError: No module named 'nonexistent_mod'</error></testcase></testsuite>
</testsuites>`

/** pytest's JUnit XML for a pass, a failure that also failed on teardown (two testcases), and a skip. */
const mixed = `<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest"
errors="1" failures="1" skipped="1" tests="4"><testcase classname="t" name="test_ok" time="0.001" /><testcase
classname="t" name="test_td" time="0.000"><failure message="assert False">E assert False</failure></testcase><testcase
classname="t" name="test_td" time="0.000"><error message="failed on teardown">E RuntimeError</error></testcase>
<testcase classname="t" name="test_s" time="0.013"><skipped type="pytest.skip" message="skip">skip</skipped></testcase>
</testsuite></testsuites>`

describe('scripts/summarize-tests.mjs', () => {
  it('counts a suite whose hook timed out (no failed test) as failed, and exits 1', () => {
    const run = summarize(`vitest=${report('hook.json', hookTimeout)}`)
    expect(run.total).toBe('total: 0 passed, 1 failed, 1 skipped')
    expect(run.out).toMatch(/capture\.test\.ts failed outside its tests/)
    expect(run.status).toBe(1)
  })

  it('counts a runner that wrote no report as a failure, and exits 1', () => {
    const run = summarize(`vitest=${report('ok.json', passing)}`, `browser=${join(dir, 'absent.json')}`)
    expect(run.total).toBe('total: 3 passed, 1 failed, 1 skipped')
    expect(run.out).toMatch(/browser: no report/)
    expect(run.status).toBe(1)
  })

  it('counts a pytest collection error as a failure, and exits 1', () => {
    const run = summarize(`pytest=${report('collection.xml', collectionError)}`)
    expect(run.total).toBe('total: 0 passed, 1 failed, 0 skipped')
    expect(run.status).toBe(1)
  })

  it('counts each pytest testcase as pytest does (a teardown error is one more failure)', () => {
    const run = summarize(`pytest=${report('mixed.xml', mixed)}`)
    expect(run.total).toBe('total: 1 passed, 2 failed, 1 skipped')
    expect(run.status).toBe(1)
  })

  it('counts an unreadable report (a runner killed mid-write) as a failure, without a stack trace', () => {
    const run = summarize(`vitest=${report('cut.json', passing.slice(0, 40))}`)
    expect(run.total).toBe('total: 0 passed, 1 failed, 0 skipped')
    expect(run.out).toMatch(/vitest: unreadable report/)
    expect(run.out).not.toMatch(/^\s+at /m)
    expect(run.status).toBe(1)
  })

  it('counts a runner whose step failed with a clean report as a failure', () => {
    const run = summarize(`vitest=${report('ok.json', passing)}`, '--failed-steps=lint,vitest')
    expect(run.total).toBe('total: 3 passed, 1 failed, 1 skipped')
    expect(run.status).toBe(1)
  })

  it('exits 0 when everything passed, whatever other steps failed', () => {
    const run = summarize(
      `vitest=${report('ok.json', passing)}`,
      `pytest=${report('ok.xml', mixed.replace(/<(failure|error)\b[\s\S]*?<\/\1>/g, ''))}`,
      '--failed-steps=lint',
    )
    expect(run.total).toBe('total: 6 passed, 0 failed, 2 skipped')
    expect(run.status).toBe(0)
  })
})
