import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { InputError } from '../core/errors'
import { appRoot } from '../core/paths'

const TRAINING = join(appRoot(), 'training')

/** The training venv's Python (PHONOSCOPE_PYTHON overrides), for commands that compare against the Python side. */
export function pythonExecutable(): string {
  const python = process.env.PHONOSCOPE_PYTHON ?? join(TRAINING, '.venv', 'bin', 'python')
  if (!existsSync(python)) throw new InputError(python, 'Python environment not found: run scripts/setup-python.sh')
  return python
}

/** Runs `python -m phonoscope_training.<module>` single-threaded with `input` on stdin; resolves its stdout. */
export function runPythonModule(module: string, args: string[], input = ''): Promise<string> {
  const threads = { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', NUMBA_NUM_THREADS: '1' }
  return new Promise((done, fail) => {
    const child = execFile(
      pythonExecutable(),
      ['-m', `phonoscope_training.${module}`, ...args],
      { cwd: TRAINING, env: { ...process.env, ...threads }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) =>
        error ? fail(new Error(`python ${module} failed: ${stderr.trim() || error.message}`)) : done(stdout),
    )
    child.stdin?.end(input)
  })
}
