import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { InferenceOutput, WindowBatch } from '../api/inference'
import type { ModelCard } from '../api/model-card'
import { fromWire, type WireError } from '../errors'
import type { Inferer, RecordingResult } from './classify'
import type { Admit, KeptRecording } from './keep'
import type { RecordingFeatures } from './recording'

/** What a pool worker is started with (workerData). */
export interface PoolWorkerData {
  card: ModelCard
  hopFrames?: number
}

/** The pool's messages to a worker. */
export type PoolRequest =
  /** `keep`: import's task (keepAndClassify), the lossless copy written there */
  | { type: 'task'; id: number; path: string; classify: boolean; keep?: string }
  | { type: 'admit'; id: number; admitted: boolean }
  | { type: 'inferred'; call: number; output: InferenceOutput }
  | { type: 'infer-failed'; call: number; message: string }

/** A worker's messages to the pool; `features_ms` is its time on decode + front end. */
export type PoolReply =
  | { type: 'features'; id: number; features: RecordingFeatures; features_ms: number }
  | { type: 'classified'; id: number; result: RecordingResult; features_ms: number; sample_rate: number }
  | { type: 'kept'; id: number; sha256: string }
  | { type: 'imported'; id: number; kept: KeptRecording }
  /** the error as it was thrown (its kind kept: a user's error stays one) */
  | { type: 'failed'; id: number; error: WireError }
  | { type: 'infer'; id: number; call: number; input: WindowBatch }

/** A recording done in a worker, with the worker's seconds on decode + front end and the file's sample rate. */
export interface Pooled<T> {
  value: T
  features_s: number
  sample_rate: number
}

export interface PoolOptions {
  card: ModelCard
  /** hop between windows in frames (default: the card's) */
  hopFrames?: number
  /** worker threads (default defaultJobs()) */
  jobs?: number
  /** the worker script (default: recording-worker beside this module, bundled or from the sources) */
  worker?: URL
}

/**
 * Recordings in flight in one worker: one being decoded while the previous one waits for the inference host, so
 * a single worker keeps the host fed; more would only hold more signals in memory.
 */
const PER_WORKER = 2

/** Workers that leave one core to the inference host: cores - 1, at least 1. */
export const defaultJobs = (): number => Math.max(1, availableParallelism() - 1)

type Done = PoolReply & { type: 'features' | 'classified' | 'imported' }

interface Task {
  id: number
  path: string
  inferer?: Inferer
  /** import's task: where the lossless copy goes, and who admits it by its sha256 */
  keep?: { wav: string; admit: Admit }
  resolve: (reply: Done) => void
  reject: (error: Error) => void
}

interface Slot {
  worker: Worker
  tasks: Map<number, Task>
}

/** The tsx ESM API as a URL, to run the worker from the TypeScript sources (tests, `tsx`). */
function tsxApi(): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json')
  return pathToFileURL(join(pkg, '..', 'dist', 'esm', 'api', 'index.mjs')).href
}

/** The bundle's worker script, beside this module once bundled (scripts/build-cli.mjs). */
const BUNDLED_WORKER = new URL('./recording-worker.mjs', import.meta.url)

/**
 * Whether a pool's workers can start here: `script` (the app's main bundle names its own) where given, else from the
 * TypeScript sources or beside a bundle that has the worker (the CLI's).
 */
export const workersAvailable = (script?: URL): boolean => {
  const file = script ?? BUNDLED_WORKER
  if (!script && import.meta.url.endsWith('.ts')) return true
  return file.protocol === 'file:' && existsSync(fileURLToPath(file))
}

/**
 * Starts the worker: the bundle's recording-worker.mjs beside out/cli/main.mjs (scripts/build-cli.mjs), or, when
 * this module runs from its .ts source, recording-worker.ts through tsx.
 */
function startWorker(workerData: PoolWorkerData, script?: URL): Worker {
  if (script) return new Worker(script, { workerData })
  if (!import.meta.url.endsWith('.ts')) return new Worker(BUNDLED_WORKER, { workerData })
  const entry = new URL('./recording-worker.ts', import.meta.url).href
  const boot = `import(${JSON.stringify(tsxApi())}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(boot, { eval: true, workerData })
}

/**
 * Decode + resample + log-Mel (and, to classify, the segmentation and quality gate) of recordings in worker
 * threads, so the next recordings' features are computed while the inference host runs the current one. Features
 * come back in transferred buffers; to classify, the worker runs classifyFeatures with its windows sent through
 * this thread to the caller's inferer, so the results are those of the main-thread path. Tasks beyond
 * jobs x PER_WORKER wait here as paths. A file that fails rejects its own task; a worker that dies rejects its
 * tasks and is replaced.
 */
export class RecordingPool {
  private readonly slots: (Slot | undefined)[]
  private readonly waiting: Task[] = []
  private readonly data: PoolWorkerData
  private nextId = 1
  private closed = false

  constructor(private readonly options: PoolOptions) {
    const jobs = options.jobs ?? defaultJobs()
    if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`jobs must be a positive integer, not ${jobs}`)
    this.slots = Array.from({ length: jobs }, () => undefined)
    this.data = { card: options.card, hopFrames: options.hopFrames }
  }

  /** The recording's features, computed in a worker (RecordingFeatures as recordingFeatures gives them). */
  async features(path: string): Promise<Pooled<RecordingFeatures>> {
    const reply = await this.submit(path)
    if (reply.type !== 'features') throw new Error(`unexpected ${reply.type} reply`)
    return { value: reply.features, features_s: reply.features_ms / 1000, sample_rate: reply.features.sampleRate }
  }

  /** The recording classified (classifyFeatures) in a worker, its windows run by `inferer` on this thread. */
  async classify(path: string, inferer: Inferer): Promise<Pooled<RecordingResult>> {
    const reply = await this.submit(path, inferer)
    if (reply.type !== 'classified') throw new Error(`unexpected ${reply.type} reply`)
    return { value: reply.result, features_s: reply.features_ms / 1000, sample_rate: reply.sample_rate }
  }

  /**
   * Import's work on a recording in a worker (keepAndClassify): one decode into its features and its lossless copy
   * `wav`; `admit` (on this thread) decides by the copy's sha256 whether it is classified, its windows run by
   * `inferer`.
   */
  async keepAndClassify(path: string, wav: string, inferer: Inferer, admit: Admit): Promise<KeptRecording> {
    const reply = await this.submit(path, inferer, { wav, admit })
    if (reply.type !== 'imported') throw new Error(`unexpected ${reply.type} reply`)
    return reply.kept
  }

  /** Stops the workers; tasks still in flight are rejected. */
  async close(): Promise<void> {
    this.closed = true
    const gone = new Error('recording pool closed')
    for (const task of this.waiting.splice(0)) task.reject(gone)
    await Promise.all(
      this.slots.map((slot, i) => {
        this.slots[i] = undefined
        if (!slot) return undefined
        for (const task of slot.tasks.values()) task.reject(gone)
        return slot.worker.terminate()
      }),
    )
  }

  private submit(path: string, inferer?: Inferer, keep?: Task['keep']) {
    if (this.closed) return Promise.reject(new Error('recording pool closed'))
    return new Promise<Done>((resolve, reject) => {
      this.waiting.push({ id: this.nextId++, path, inferer, keep, resolve, reject })
      this.dispatch()
    })
  }

  /** Hands waiting tasks, in order, to the least busy workers with room. */
  private dispatch(): void {
    while (this.waiting.length > 0) {
      let best = -1
      for (let i = 0; i < this.slots.length; i++) {
        const busy = this.slots[i]?.tasks.size ?? 0
        if (busy < PER_WORKER && (best < 0 || busy < (this.slots[best]?.tasks.size ?? 0))) best = i
      }
      if (best < 0) return
      const slot = (this.slots[best] ??= this.spawn(best))
      const task = this.waiting.shift()!
      slot.tasks.set(task.id, task)
      const request: PoolRequest = {
        type: 'task',
        id: task.id,
        path: task.path,
        classify: Boolean(task.inferer),
        keep: task.keep?.wav,
      }
      slot.worker.postMessage(request)
    }
  }

  private spawn(index: number): Slot {
    const slot: Slot = { worker: startWorker(this.data, this.options.worker), tasks: new Map() }
    slot.worker.on('message', (reply: PoolReply) => this.receive(slot, reply))
    const lost = (why: string) => {
      if (this.slots[index] !== slot) return
      this.slots[index] = undefined
      const error = new Error(`recording worker ${why}`)
      for (const task of slot.tasks.values()) task.reject(error)
      slot.tasks.clear()
      if (!this.closed) this.dispatch()
    }
    slot.worker.on('error', (error) => lost(`failed: ${error.message}`))
    slot.worker.on('exit', (code) => lost(`exited with code ${code}`))
    return slot
  }

  private receive(slot: Slot, reply: PoolReply): void {
    const task = slot.tasks.get(reply.id)
    if (!task) return
    if (reply.type === 'infer') return void this.relay(slot, task, reply.call, reply.input)
    if (reply.type === 'kept') return void this.admit(slot, task, reply.sha256)
    slot.tasks.delete(reply.id)
    if (reply.type === 'failed') task.reject(fromWire(reply.error))
    else task.resolve(reply)
    this.dispatch()
  }

  /** Asks the task's admit about its copy's sha256 and tells the worker (an admit that throws turns it away). */
  private admit(slot: Slot, task: Task, sha256: string): void {
    const answer = (admitted: boolean) =>
      slot.worker.postMessage({ type: 'admit', id: task.id, admitted } satisfies PoolRequest)
    Promise.resolve()
      .then(() => task.keep!.admit(sha256))
      .then(answer, () => answer(false))
  }

  /** Runs a worker's window batch on the task's inferer and sends the output back. */
  private relay(slot: Slot, task: Task, call: number, input: WindowBatch): void {
    task.inferer!.infer(input).then(
      (output) => slot.worker.postMessage({ type: 'inferred', call, output } satisfies PoolRequest),
      (error: unknown) =>
        slot.worker.postMessage({
          type: 'infer-failed',
          call,
          message: error instanceof Error ? error.message : String(error),
        } satisfies PoolRequest),
    )
  }
}
