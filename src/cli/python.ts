import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { InputError } from '../core/errors'
import { appRoot } from '../core/paths'

const TRAINING = join(appRoot(), 'training')

/** The training venv's Python (PHONOSCOPE_PYTHON overrides), for commands that compare against the Python side. */
export function pythonExecutable(): string {
  const python = process.env.PHONOSCOPE_PYTHON ?? join(TRAINING, '.venv', 'bin', 'python')
  if (!existsSync(python)) throw new InputError(python, 'Python environment not found: run scripts/setup-python.sh')
  return python
}

const pythonPath = (): string =>
  [TRAINING, process.env.PYTHONPATH].filter((p): p is string => Boolean(p)).join(delimiter)

/**
 * OpenBLAS overrides that pin it to an older kernel (a shell may set them for other tools): with both gone OpenBLAS
 * picks the CPU's own kernel, so a Python reference runs at its full speed (threadpoolctl says which kernel ran).
 */
const BLAS_KERNEL_OVERRIDES = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']

/**
 * Runs `python -m phonoscope_training.<module>` single-threaded with `input` on stdin; resolves its stdout. It runs in
 * the caller's folder (the package is found through PYTHONPATH), so paths in `args` mean what the user typed.
 */
export function runPythonModule(module: string, args: string[], input = ''): Promise<string> {
  const threads = { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', NUMBA_NUM_THREADS: '1' }
  const env: NodeJS.ProcessEnv = { ...process.env, ...threads, PYTHONPATH: pythonPath() }
  for (const name of BLAS_KERNEL_OVERRIDES) delete env[name]
  return new Promise((done, fail) => {
    const child = execFile(
      pythonExecutable(),
      ['-m', `phonoscope_training.${module}`, ...args],
      { env, maxBuffer: 64 << 20 },
      (error, stdout, stderr) =>
        error ? fail(new Error(`python ${module} failed: ${stderr.trim() || error.message}`)) : done(stdout),
    )
    child.stdin?.end(input)
  })
}
