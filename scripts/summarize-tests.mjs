// Prints each runner's counts and one total line "N passed, N failed, N skipped" (the line CI reads), and exits 1
// when anything failed. Arguments: name=path of each runner's report (vitest JSON, or pytest JUnit XML when the path
// ends in .xml); --failed-steps=name,... the runners whose step exited non-zero.
// A failure that is not a failed test still counts as one: a suite whose hook or import failed (its tests are only
// skipped), a runner that wrote no report or an unreadable one, a runner that exited non-zero with a clean report.
import { existsSync, readFileSync } from 'node:fs'

/** [passed, failed, skipped] and why failures were counted that no test shows. */
function vitestCounts(report) {
  const r = JSON.parse(report)
  const c = [r.numPassedTests, r.numFailedTests, r.numPendingTests + r.numTodoTests]
  const notes = []
  for (const suite of r.testResults ?? []) {
    const failedTests = suite.assertionResults.filter((t) => t.status === 'failed').length
    if (suite.status === 'failed' && failedTests === 0) {
      c[1] += 1
      const why = suite.message?.trim().split('\n')[0] || 'a hook, the import, or the run itself failed'
      notes.push(`${suite.name} failed outside its tests: ${why}`)
    }
  }
  return { c, notes }
}

// each <testcase> once per outcome, as pytest's own summary: a collection error is a testcase holding an <error>
function pytestCounts(report) {
  const c = [0, 0, 0]
  for (const [, body = ''] of report.matchAll(/<testcase\b[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    c[/<(failure|error)\b/.test(body) ? 1 : /<skipped\b/.test(body) ? 2 : 0] += 1
  }
  return { c, notes: [] }
}

function counts(path) {
  if (!existsSync(path)) return { c: [0, 1, 0], notes: ['no report: the runner crashed or did not run'] }
  try {
    const report = readFileSync(path, 'utf8')
    return path.endsWith('.xml') ? pytestCounts(report) : vitestCounts(report)
  } catch (error) {
    return { c: [0, 1, 0], notes: [`unreadable report ${path}: ${error.message}`] }
  }
}

const args = process.argv.slice(2)
const failedSteps = new Set(
  args
    .filter((a) => a.startsWith('--failed-steps='))
    .flatMap((a) => a.slice('--failed-steps='.length).split(','))
    .filter(Boolean),
)
const total = [0, 0, 0]
for (const arg of args.filter((a) => !a.startsWith('--'))) {
  const at = arg.indexOf('=')
  const [name, path] = [arg.slice(0, at), arg.slice(at + 1)]
  const { c, notes } = counts(path)
  if (failedSteps.has(name) && c[1] === 0) {
    c[1] = 1
    notes.push('the runner exited with an error, and its report shows no failure')
  }
  console.log(`${name}: ${c[0]} passed, ${c[1]} failed, ${c[2]} skipped`)
  for (const note of notes) console.log(`  ${name}: ${note}`)
  c.forEach((v, i) => (total[i] += v))
}
console.log(`total: ${total[0]} passed, ${total[1]} failed, ${total[2]} skipped`)
process.exitCode = total[1] > 0 ? 1 : 0
