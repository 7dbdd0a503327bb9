// Prints vitest's totals as one plain line ("vitest: N passed, N failed, N skipped") after a run
// with the JSON reporter, so any log reader can tell how many tests ran.
import { readFileSync } from 'node:fs'

const file = process.argv[2] ?? '.vitest-results/results.json'
const results = JSON.parse(readFileSync(file, 'utf8'))
const skipped = results.numPendingTests + results.numTodoTests
console.log(
  `vitest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`,
)
process.exit(results.numTotalTests > 0 && results.success ? 0 : 1)
