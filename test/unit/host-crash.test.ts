import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { HostMessage, HostRequest, WindowBatch } from '../../src/core/api/inference'
import { INFERENCE_PROTOCOL_VERSION } from '../../src/core/api/inference'
import { InputError } from '../../src/core/errors'
import { HostCrashError, InferenceClient, type HostHandle } from '../../src/core/model/client'
import { serveInference } from '../../src/core/model/host'
import { tinyModel } from './model-fixture'

let model: string
const clients: InferenceClient[] = []
beforeAll(() => void (model = tinyModel()), 180_000)
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

const windows = (batch: number, frames = 936): WindowBatch => ({
  batch,
  frames,
  nMels: 64,
  data: Float32Array.from({ length: batch * frames * 64 }, (_, i) => -8 + Math.sin(i)),
})

const client = (modelPath = model) => {
  const c = new InferenceClient({ modelPath, provider: 'cpu', threads: 1 })
  clients.push(c)
  return c
}

describe('inference host (child process)', () => {
  it('loads the model, answers requests in order and reports its memory', async () => {
    const c = client()
    const info = await c.start()
    expect(info).toMatchObject({ name: 'tiny-cnn', provider: 'cpu', threads: 1 })
    const [a, b] = await Promise.all([c.infer(windows(1)), c.infer(windows(2, 200))])
    expect(a.logProbs).toHaveLength(3)
    expect(a.attentionShape).toEqual([1, 3, 58, 4])
    expect(b.attentionShape).toEqual([2, 3, 12, 4])
    const sum = [0, 1, 2].reduce((s, k) => s + Math.exp(a.logProbs[k]!), 0)
    expect(sum).toBeCloseTo(1, 5)
    const stats = await c.stats()
    expect(stats.pid).toBe(c.pid)
    expect(stats.maxRssBytes).toBeGreaterThan(10 << 20)
  })

  it('rejects pending requests when the host is killed mid-request, then restarts on the next one', async () => {
    const c = client()
    await c.start()
    const first = c.pid!
    const pending = [c.infer(windows(16)), c.infer(windows(16)), c.infer(windows(1))]
    process.kill(first, 'SIGKILL')
    for (const p of pending) await expect(p).rejects.toThrow(HostCrashError)
    await expect(pending[0]).rejects.toThrow(/was killed by SIGKILL with 3 request\(s\) pending/)
    const after = await c.infer(windows(1))
    expect(after.logProbs).toHaveLength(3)
    expect(c.pid).not.toBe(first)
    expect(c.restarts).toBe(1)
  })

  it('gives the same numbers after a restart', async () => {
    const c = client()
    const input = windows(1, 300)
    const before = await c.infer(input)
    process.kill(c.pid!, 'SIGKILL')
    await new Promise((r) => setTimeout(r, 200))
    const after = await c.infer(input)
    expect(Array.from(after.logProbs)).toEqual(Array.from(before.logProbs))
  })

  it('turns a bad model into an InputError and does not hang', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phonoscope-host-'))
    writeFileSync(join(dir, 'x.onnx'), 'not onnx')
    await expect(client(join(dir, 'x.onnx')).start()).rejects.toThrow(InputError)
    await expect(client('/nonexistent/model.onnx').infer(windows(1))).rejects.toThrow(/model not found/)
  })
})

/** A host that only says what it is told to: its first message, then whether it dies. */
function fakeHost(first: HostMessage | 'exit') {
  const killed: number[] = []
  const requests: HostRequest[] = []
  const launcher = (): HostHandle => {
    let exit: (code: number | null, signal: string | null) => void = () => {}
    const handle: HostHandle = {
      pid: 4242,
      send: (request) => void requests.push(request),
      onMessage: (handler) => {
        if (first !== 'exit') queueMicrotask(() => handler(first))
      },
      onExit: (handler) => {
        exit = handler
        if (first === 'exit') queueMicrotask(() => exit(1, null))
      },
      kill: () => {
        killed.push(4242)
        queueMicrotask(() => exit(null, 'SIGTERM'))
      },
    }
    return handle
  }
  return { launcher, killed, requests }
}

describe('handshake', () => {
  it('refuses a host of another protocol version, stops it and sends it nothing', async () => {
    const other = INFERENCE_PROTOCOL_VERSION + 1
    const host = fakeHost({ type: 'ready', pid: 4242, protocol: other })
    const c = new InferenceClient({ modelPath: model }, host.launcher)
    await expect(c.start()).rejects.toThrow(
      `inference host (pid 4242) speaks protocol ${other}, this client ${INFERENCE_PROTOCOL_VERSION}: the host and the app come from different builds`,
    )
    expect(host.killed).toEqual([4242])
    expect(host.requests).toEqual([])
  })

  it('reports a host that dies before it is ready as a crash', async () => {
    const host = fakeHost('exit')
    const c = new InferenceClient({ modelPath: model }, host.launcher)
    await expect(c.start()).rejects.toThrow(
      'inference host (pid 4242) exited with code 1 before it was ready; the next request restarts it',
    )
    expect(host.requests).toEqual([])
  })
})

describe('host protocol (transport-independent loop)', () => {
  it('announces itself, refuses inference before a model is loaded, then serves', async () => {
    const replies: HostMessage[] = []
    let send: (m: HostRequest) => void = () => {}
    serveInference({ post: (m) => replies.push(m), onMessage: (h) => (send = h) })
    const next = async (n: number) => {
      while (replies.length < n) await new Promise((r) => setTimeout(r, 5))
      return replies[n - 1]!
    }
    expect(await next(1)).toEqual({ type: 'ready', pid: process.pid, protocol: INFERENCE_PROTOCOL_VERSION })
    send({ id: 1, type: 'infer', input: windows(1) })
    expect(await next(2)).toMatchObject({
      id: 1,
      type: 'error',
      error: { kind: 'internal', message: /no model loaded/ },
    })
    send({ id: 2, type: 'load', options: { modelPath: '/nope.onnx' } })
    expect(await next(3)).toMatchObject({ id: 2, type: 'error', error: { kind: 'input', subject: '/nope.onnx' } })
    send({ id: 3, type: 'load', options: { modelPath: model, threads: 1 } })
    send({ id: 4, type: 'infer', input: windows(1, 64) })
    expect(await next(4)).toMatchObject({ id: 3, type: 'loaded' })
    expect(await next(5)).toMatchObject({ id: 4, type: 'output' })
  })
})
