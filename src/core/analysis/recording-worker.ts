// A RecordingPool worker thread (recording-pool.ts): decodes and computes one recording's features per task, and
// classifies it when asked, its windows sent to the pool's thread to be inferred there.
import { parentPort, workerData } from 'node:worker_threads'
import type { InferenceOutput, WindowBatch } from '../api/inference'
import { toWire } from '../errors'
import { classifyFeatures, type Inferer } from './classify'
import { keepAndClassify } from './keep'
import { recordingFeatures } from './recording'
import type { PoolReply, PoolRequest, PoolWorkerData } from './recording-pool'

if (!parentPort) throw new Error('recording-worker.ts must run in a worker thread (RecordingPool)')
const port = parentPort
const { card, hopFrames } = workerData as PoolWorkerData
const calls = new Map<number, { resolve: (output: InferenceOutput) => void; reject: (error: Error) => void }>()
let nextCall = 1
/** Tasks waiting for the pool's admission of their copy's sha256, by task id. */
const admissions = new Map<number, (admitted: boolean) => void>()

const post = (reply: PoolReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer)

/** The inferer classifyFeatures sees: each window batch goes to the pool's thread, its input buffer transferred. */
const inferer = (id: number): Inferer => ({
  infer: (input: WindowBatch) =>
    new Promise<InferenceOutput>((resolve, reject) => {
      const call = nextCall++
      calls.set(call, { resolve, reject })
      post({ type: 'infer', id, call, input }, [input.data.buffer as ArrayBuffer])
    }),
})

/** Asks the pool whether the task's recording, its copy hashed to `sha256`, goes on to be classified. */
const admit = (id: number) => (sha256: string) =>
  new Promise<boolean>((resolve) => {
    admissions.set(id, resolve)
    post({ type: 'kept', id, sha256 })
  })

async function run(id: number, path: string, classify: boolean, keep?: string): Promise<void> {
  if (keep !== undefined) {
    const kept = await keepAndClassify(path, keep, card, inferer(id), admit(id), hopFrames)
    return post({ type: 'imported', id, kept })
  }
  const start = performance.now()
  const features = await recordingFeatures(path, card.frontend)
  const features_ms = performance.now() - start
  if (!classify) {
    const buffers = [features.data.buffer, features.signal.buffer] as ArrayBuffer[]
    return post({ type: 'features', id, features, features_ms }, buffers)
  }
  const result = await classifyFeatures(features, card, inferer(id), hopFrames)
  post({ type: 'classified', id, result, features_ms, sample_rate: features.sampleRate })
}

port.on('message', (request: PoolRequest) => {
  if (request.type === 'task') {
    run(request.id, request.path, request.classify, request.keep).catch((error: unknown) =>
      post({ type: 'failed', id: request.id, error: toWire(error) }),
    )
    return
  }
  if (request.type === 'admit') {
    admissions.get(request.id)?.(request.admitted)
    admissions.delete(request.id)
    return
  }
  const waiting = calls.get(request.call)
  if (!waiting) return
  calls.delete(request.call)
  if (request.type === 'inferred') waiting.resolve(request.output)
  else waiting.reject(new Error(request.message))
})
