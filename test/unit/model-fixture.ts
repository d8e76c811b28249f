import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FrontendParams, Windowing } from '../../src/core/api/model-card'
import { REPO_ROOT } from '../helpers/paths'

const TRAINING = join(REPO_ROOT, 'training')
const FRONTEND_JSON = join(REPO_ROOT, 'resources', 'frontend.json')
const PYTHON = process.env.PHONOSCOPE_PYTHON ?? join(TRAINING, '.venv', 'bin', 'python')

/** The shipped model, when the training side has exported it. */
export const SHIPPED_MODEL = join(REPO_ROOT, 'models', 'phonoscope-cnn-att.onnx')
/** The shipped model with murmur descriptor heads (not the default: its grade measured below the default's). */
export const DESCRIPTOR_MODEL = join(REPO_ROOT, 'models', 'phonoscope-cnn-att-desc.onnx')
export const shippedModelAvailable = (): boolean =>
  existsSync(SHIPPED_MODEL) && existsSync(SHIPPED_MODEL.replace(/\.onnx$/, '.json'))

/**
 * What a test model may change of the defaults: front-end fields, the windowing's frame counts, and descriptor heads
 * ({name: [label, ...]}: extra ONNX outputs and the card's `heads`).
 */
export interface TestGeometry {
  frontend?: Partial<FrontendParams>
  windowing?: Partial<Pick<Windowing, 'window_frames' | 'hop_frames' | 'min_frames'>>
  heads?: Record<string, string[]>
}

/**
 * An untrained tiny CNN exported by the Python side's real export path (phonoscope_training.tiny_model: models.build
 * + export.export_onnx + export.model_card) into a temp folder keyed by the Python sources and the geometry, built
 * once and shared by the test files (an atomic rename guards concurrent workers). `geometry` gives it a front end and
 * windowing other than the defaults (its card says so, and its graph takes that many Mel bins).
 */
export function tinyModel(geometry: TestGeometry = {}): string {
  const sources = [
    'tiny_model.py',
    'export.py',
    'descriptors.py',
    'models/__init__.py',
    'models/cnn.py',
    'models/attention.py',
  ]
  const hash = createHash('sha256')
  for (const s of [...sources, 'frontend.py']) hash.update(readFileSync(join(TRAINING, 'phonoscope_training', s)))
  hash.update(readFileSync(FRONTEND_JSON))
  hash.update(JSON.stringify(geometry))
  const dir = join(tmpdir(), `phonoscope-test-model-${hash.digest('hex').slice(0, 12)}`)
  const model = join(dir, 'tiny-cnn.onnx')
  if (existsSync(model)) return model
  const staging = `${dir}.tmp-${process.pid}`
  mkdirSync(staging, { recursive: true })
  const changes = [
    '--frontend',
    JSON.stringify(geometry.frontend ?? {}),
    '--windowing',
    JSON.stringify(geometry.windowing ?? {}),
    '--heads',
    JSON.stringify(geometry.heads ?? {}),
  ]
  execFileSync(PYTHON, ['-m', 'phonoscope_training.tiny_model', '--out', staging, ...changes], {
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
