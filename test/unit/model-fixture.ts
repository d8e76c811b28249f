import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '../helpers/paths'

const TRAINING = join(REPO_ROOT, 'training')
const PYTHON = process.env.PHONOSCOPE_PYTHON ?? join(TRAINING, '.venv', 'bin', 'python')

/** The shipped model, when the training side has exported it. */
export const SHIPPED_MODEL = join(REPO_ROOT, 'models', 'phonoscope-cnn-att.onnx')
export const shippedModelAvailable = (): boolean =>
  existsSync(SHIPPED_MODEL) && existsSync(SHIPPED_MODEL.replace(/\.onnx$/, '.json'))

/**
 * An untrained tiny CNN exported by the Python side's real export path (phonoscope_training.onnx_eval
 * make-test-model: models.build + export.export_onnx + export.model_card) into a temp folder keyed by the Python
 * sources, built once and shared by the test files (an atomic rename guards concurrent workers).
 */
export function tinyModel(): string {
  const sources = ['onnx_eval.py', 'export.py', 'models/cnn.py', 'models/attention.py', 'frontend.py']
  const hash = createHash('sha256')
  for (const s of sources) hash.update(readFileSync(join(TRAINING, 'phonoscope_training', s)))
  hash.update(readFileSync(join(REPO_ROOT, 'src', 'core', 'dsp', 'frontend.json')))
  const dir = join(tmpdir(), `phonoscope-test-model-${hash.digest('hex').slice(0, 12)}`)
  const model = join(dir, 'tiny-cnn.onnx')
  if (existsSync(model)) return model
  const staging = `${dir}.tmp-${process.pid}`
  mkdirSync(staging, { recursive: true })
  execFileSync(PYTHON, ['-m', 'phonoscope_training.onnx_eval', 'make-test-model', '--out', staging], {
    cwd: TRAINING,
    env: { ...process.env, OMP_NUM_THREADS: '1', PHONOSCOPE_THREADS: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 120_000,
  })
  try {
    renameSync(staging, dir)
  } catch {
    rmSync(staging, { recursive: true, force: true }) // another worker won the race
  }
  return model
}

/** Runs the Python reference (phonoscope_training.onnx_eval) and parses its JSON. */
export function pythonOnnxEval(args: string[]): unknown {
  const out = execFileSync(PYTHON, ['-m', 'phonoscope_training.onnx_eval', ...args], {
    cwd: TRAINING,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 600_000,
  })
  return JSON.parse(out)
}

export const runPython = (code: string): string =>
  execFileSync(PYTHON, ['-c', code], { cwd: TRAINING, encoding: 'utf8', timeout: 60_000 })
