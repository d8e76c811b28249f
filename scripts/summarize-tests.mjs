// Prints each runner's counts and one total line "N passed, N failed, N skipped" (the line CI reads).
// Arguments: name=path of each runner's report (vitest JSON, or pytest JUnit XML when the path ends in .xml).
import { existsSync, readFileSync } from 'node:fs'

function counts(path) {
  if (path.endsWith('.xml')) {
    const suite = /<testsuite [^>]*>/.exec(readFileSync(path, 'utf8'))[0]
    const n = (attr) => Number(new RegExp(`${attr}="(\\d+)"`).exec(suite)?.[1] ?? 0)
    const failed = n('failures') + n('errors')
    return [n('tests') - failed - n('skipped'), failed, n('skipped')]
  }
  const r = JSON.parse(readFileSync(path, 'utf8'))
  return [r.numPassedTests, r.numFailedTests, r.numPendingTests + r.numTodoTests]
}

const total = [0, 0, 0]
for (const arg of process.argv.slice(2)) {
  const [name, path] = arg.split('=')
  // a runner that did not finish counts as one failure
  const c = existsSync(path) ? counts(path) : [0, 1, 0]
  console.log(`${name}: ${c[0]} passed, ${c[1]} failed, ${c[2]} skipped`)
  c.forEach((v, i) => (total[i] += v))
}
console.log(`total: ${total[0]} passed, ${total[1]} failed, ${total[2]} skipped`)
