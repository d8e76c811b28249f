// Prints each runner's counts and one total line "N passed, N failed, N skipped" (the line CI reads).
import { existsSync, readFileSync } from 'node:fs'

const [vitestJson, pytestXml] = process.argv.slice(2)
const runs = []
if (existsSync(vitestJson)) {
  const r = JSON.parse(readFileSync(vitestJson, 'utf8'))
  runs.push(['vitest', r.numPassedTests, r.numFailedTests, r.numPendingTests + r.numTodoTests])
} else runs.push(['vitest', 0, 1, 0]) // the runner itself did not finish: count it as a failure
if (existsSync(pytestXml)) {
  const suite = /<testsuite [^>]*>/.exec(readFileSync(pytestXml, 'utf8'))[0]
  const n = (attr) => Number(new RegExp(`${attr}="(\\d+)"`).exec(suite)?.[1] ?? 0)
  const failed = n('failures') + n('errors')
  runs.push(['pytest', n('tests') - failed - n('skipped'), failed, n('skipped')])
} else runs.push(['pytest', 0, 1, 0])
const total = [0, 0, 0]
for (const [name, ...counts] of runs) {
  console.log(`${name}: ${counts[0]} passed, ${counts[1]} failed, ${counts[2]} skipped`)
  counts.forEach((c, i) => (total[i] += c))
}
console.log(`total: ${total[0]} passed, ${total[1]} failed, ${total[2]} skipped`)
