// One child process under valgrind's callgrind, for the A/B tools that count instructions of a
// script run twice (N1 and N2 iterations): uncached.mjs and dpop-overhead.mjs.
import { spawn } from 'node:child_process'

/**
 * Runs `node --single-threaded <script>` under callgrind with `env` added to this process's
 * environment; resolves with the instructions it counted ("Collected"), rejects with the end of
 * valgrind's output when the run fails. `label` names the run in that error.
 */
export function callgrindInstructions(script, env, label) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'valgrind',
      [
        '--tool=callgrind',
        // V8 writes and rewrites machine code: valgrind must notice code changes off the stack.
        '--smc-check=all-non-file',
        '--callgrind-out-file=/dev/null',
        process.execPath,
        // No concurrent compiler or GC threads: their work lands in either run at random, and
        // moves the difference by thousands of instructions per iteration.
        '--single-threaded',
        script,
      ],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.once('exit', (code) => {
      const match = /Collected : (\d+)/.exec(stderr)
      if (code !== 0 || match === null) {
        reject(new Error(`${label} exited with ${code}:\n${stderr.slice(-2000)}`))
      } else resolve(Number(match[1]))
    })
  })
}
