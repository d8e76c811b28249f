import { fork } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type {
  HostMessage,
  HostRequest,
  HostStats,
  InferenceOutput,
  LoadOptions,
  ModelInfo,
  WindowBatch,
  WireError,
} from '../api/inference'
import { INFERENCE_PROTOCOL_VERSION } from '../api/inference'
import { InputError } from '../errors'
import { appRoot } from '../paths'

/** A running host, whatever carries its messages (child process, Electron utilityProcess, worker). */
export interface HostHandle {
  readonly pid: number | undefined
  send(request: HostRequest): void
  onMessage(handler: (message: HostMessage) => void): void
  /** called once when the host is gone, for whatever reason */
  onExit(handler: (code: number | null, signal: string | null) => void): void
  kill(signal?: NodeJS.Signals): void
}

export type HostLauncher = () => HostHandle

/** The tsx loader as a URL for --import, so the host runs from the TypeScript sources. */
function tsxLoader(): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json')
  return pathToFileURL(join(pkg, '..', 'dist', 'loader.mjs')).href
}

/**
 * Forks src/core/model/host-process.ts as a child process, through tsx (its work is onnxruntime's native code, so the
 * loader costs only start-up time), with structured-clone IPC so Float32Arrays travel as such. The app's host is
 * its own bundle instead (out/main/inference-host.js, an Electron utility process: src/main/index.ts).
 */
export function childProcessLauncher(): HostLauncher {
  const entry = join(appRoot(), 'src', 'core', 'model', 'host-process.ts')
  const execArgv = ['--import', tsxLoader()]
  return () => {
    const child = fork(entry, [], {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    })
    return {
      pid: child.pid,
      send: (request) => void child.send(request),
      onMessage: (handler) => child.on('message', (m) => handler(m as HostMessage)),
      onExit: (handler) => {
        let done = false
        const once = (code: number | null, signal: string | null) => {
          if (done) return
          done = true
          handler(code, signal)
        }
        child.on('exit', once)
        // a failed spawn has no 'exit' to follow; other errors (a send to a dying host) are followed by 'exit'
        child.on('error', () => {
          if (child.pid === undefined) once(null, null)
        })
      },
      kill: (signal) => void child.kill(signal),
    }
  }
}

/** The host died with requests in flight; they are rejected with this, and the next request starts a new host. */
export class HostCrashError extends Error {
  override readonly name = 'HostCrashError'
}

function fromWire(error: WireError): Error {
  return error.kind === 'input' && error.subject !== undefined && error.problem !== undefined
    ? new InputError(error.subject, error.problem)
    : new Error(error.message)
}

interface Pending {
  resolve: (message: HostMessage) => void
  reject: (error: Error) => void
}

const MAX_FAILED_STARTS = 3
/** The handshake waits in `pending` under this id (requests count from 1), so a host dying first fails it too. */
const READY = 0

type Ready = Extract<HostMessage, { type: 'ready' }>

function checkReady(reply: Ready): void {
  if (reply.protocol !== INFERENCE_PROTOCOL_VERSION)
    throw new Error(
      `inference host (pid ${reply.pid}) speaks protocol ${String(reply.protocol)}, this client ${INFERENCE_PROTOCOL_VERSION}: ` +
        'the host and the app come from different builds (rebuild both)',
    )
}

/**
 * The caller's side of the inference host: starts it, checks its protocol version, loads the model, sends requests
 * (the host queues and answers them in order) and, when the host dies, rejects every pending request with a
 * HostCrashError and starts a fresh host on the next request (giving up after 3 crashes in a row before a model was loaded).
 */
export class InferenceClient {
  private host: HostHandle | undefined
  private starting: Promise<ModelInfo> | undefined
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private failedStarts = 0
  private closing = false
  info: ModelInfo | undefined
  /** hosts started after the first one (crash recoveries) */
  restarts = 0
  private started = 0

  constructor(
    private readonly options: LoadOptions,
    private readonly launcher: HostLauncher = childProcessLauncher(),
  ) {}

  /** The host's pid (undefined before start or after a crash). */
  get pid(): number | undefined {
    return this.host?.pid
  }

  /** Starts the host and loads the model, once; again after a crash. Resolves the loaded model's description. */
  start(): Promise<ModelInfo> {
    if (this.closing) return Promise.reject(new Error('inference client is closed'))
    this.starting ??= this.launch()
    return this.starting
  }

  private async launch(): Promise<ModelInfo> {
    if (this.failedStarts >= MAX_FAILED_STARTS) {
      throw new HostCrashError(`inference host crashed ${this.failedStarts} times while loading the model; giving up`)
    }
    if (this.started++ > 0) this.restarts++
    const host = this.launcher()
    this.host = host
    const ready = new Promise<HostMessage>((resolve, reject) => this.pending.set(READY, { resolve, reject }))
    host.onMessage((message) => this.dispatch(message))
    host.onExit((code, signal) => this.exited(host, code, signal))
    try {
      checkReady((await ready) as Ready) // dispatch answers READY with the ready message only
      const reply = await this.request(host, { type: 'load', options: this.options })
      if (reply.type !== 'loaded') throw new Error(`unexpected reply ${reply.type} to load`)
      this.failedStarts = 0
      this.info = reply.info
      return reply.info
    } catch (error) {
      if (error instanceof HostCrashError) this.failedStarts++
      else this.stopHost(host)
      this.starting = undefined
      throw error
    }
  }

  private request(host: HostHandle, body: DistributiveOmit<HostRequest, 'id'>): Promise<HostMessage> {
    const id = this.nextId++
    return new Promise<HostMessage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      host.send({ ...body, id } as HostRequest)
    })
  }

  private dispatch(message: HostMessage): void {
    const id = message.type === 'ready' ? READY : message.id
    const waiting = this.pending.get(id)
    if (!waiting) return
    this.pending.delete(id)
    if (message.type === 'error') waiting.reject(fromWire(message.error))
    else waiting.resolve(message)
  }

  private exited(host: HostHandle, code: number | null, signal: string | null): void {
    if (this.host !== host) return
    this.host = undefined
    this.starting = undefined
    if (this.closing && this.pending.size === 0) return
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
    const when = this.pending.has(READY) ? 'before it was ready' : `with ${this.pending.size} request(s) pending`
    const error = new HostCrashError(`inference host (pid ${host.pid}) ${how} ${when}; the next request restarts it`)
    const waiting = [...this.pending.values()]
    this.pending.clear()
    for (const p of waiting) p.reject(error)
  }

  private stopHost(host: HostHandle): void {
    if (this.host === host) this.host = undefined
    host.kill()
  }

  /** Runs one batch of windows. */
  async infer(input: WindowBatch): Promise<InferenceOutput> {
    await this.start()
    const reply = await this.request(this.host!, { type: 'infer', input })
    if (reply.type !== 'output') throw new Error(`unexpected reply ${reply.type} to infer`)
    return reply.output
  }

  async stats(): Promise<HostStats> {
    await this.start()
    const reply = await this.request(this.host!, { type: 'stats' })
    if (reply.type !== 'stats') throw new Error(`unexpected reply ${reply.type} to stats`)
    return reply.stats
  }

  /** Stops the host; pending requests are rejected. */
  async close(): Promise<void> {
    this.closing = true
    const host = this.host
    if (!host) return
    await new Promise<void>((resolve) => {
      host.onExit(() => resolve())
      host.kill()
    })
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
