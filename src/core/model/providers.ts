import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { PROVIDERS, type ProviderName, type ProviderRequest } from '../api/inference'
import { InputError } from '../errors'

/** What the running onnxruntime-node offers: its backend list and whether an optional provider library is on disk. */
export interface ProviderEnvironment {
  platform: NodeJS.Platform
  /** ort.listSupportedBackends(): bundled = shipped with the package, else needs extra libraries */
  backends: { name: string; bundled: boolean }[]
  /** whether onnxruntime's shared library for a non-bundled provider (CUDA) is installed */
  libraryPresent: (provider: ProviderName) => boolean
}

/** The platform's accelerator, tried first by 'auto'. WebGPU is offered on request only (see providerCandidates). */
const NATIVE: Partial<Record<NodeJS.Platform, ProviderName>> = { linux: 'cuda', win32: 'dml', darwin: 'coreml' }

export function parseProvider(value: string | undefined): ProviderRequest {
  if (value === undefined || value === 'auto') return 'auto'
  if ((PROVIDERS as readonly string[]).includes(value)) return value as ProviderName
  throw new InputError('--provider', `unknown provider "${value}" (want auto, ${PROVIDERS.join(', ')})`)
}

/** Whether onnxruntime-node lists a provider and, when it is not bundled, its library is installed. */
export function providerPresent(provider: ProviderName, env: ProviderEnvironment): boolean {
  const backend = env.backends.find((b) => b.name === provider)
  return backend !== undefined && (backend.bundled || env.libraryPresent(provider))
}

/**
 * The providers to try, in order; the list always ends with cpu. 'auto' tries the platform's accelerator (CUDA on
 * Linux, DirectML on Windows, CoreML on macOS) when this onnxruntime-node build has it, then cpu. An explicit request
 * is tried even when it looks absent, so the user sees why it failed; cpu stays the fallback.
 */
export function providerCandidates(request: ProviderRequest, env: ProviderEnvironment): ProviderName[] {
  if (request !== 'auto') return request === 'cpu' ? ['cpu'] : [request, 'cpu']
  const native = NATIVE[env.platform]
  return native && providerPresent(native, env) ? [native, 'cpu'] : ['cpu']
}

/** onnxruntime-node's native folder (bin/napi-v6/<platform>/<arch>), where provider libraries would be installed. */
function bindingDir(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node')
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch)
}

export function detectEnvironment(): ProviderEnvironment {
  const libraries: Partial<Record<ProviderName, string>> = {
    cuda: process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so',
  }
  return {
    platform: process.platform,
    backends: ort.listSupportedBackends(),
    libraryPresent: (provider) => {
      const file = libraries[provider]
      return file !== undefined && existsSync(join(bindingDir(), file))
    },
  }
}

export const defaultThreads = (): number => Math.max(1, Math.min(2, availableParallelism()))

export interface SessionOptions {
  provider?: ProviderRequest
  threads?: number
  cpuMemArena?: boolean
  /** let idle intra-op threads busy-wait (onnxruntime's default, true) */
  spinning?: boolean
}

export interface OpenedSession {
  session: ort.InferenceSession
  provider: ProviderName
  /** e.g. "cpu (cuda failed: ...; fell back to cpu)" */
  note: string
  threads: number
}

export type SessionFactory = (provider: ProviderName) => Promise<ort.InferenceSession>

/**
 * Opens an onnxruntime session on the first provider of `candidates` that loads. A provider that fails to load is
 * noted and the next one tried; when even cpu fails, the file is not a usable ONNX model (InputError).
 */
export async function openWithFallback(
  candidates: ProviderName[],
  factory: SessionFactory,
  subject: string,
): Promise<{ session: ort.InferenceSession; provider: ProviderName; note: string }> {
  const failures: string[] = []
  for (const provider of candidates) {
    try {
      const session = await factory(provider)
      const note = failures.length ? `${provider} (${failures.join('; ')}; fell back to ${provider})` : provider
      return { session, provider, note }
    } catch (error) {
      const reason = firstLine(error)
      if (provider === 'cpu') throw new InputError(subject, `not a usable ONNX model (${reason})`)
      failures.push(`${provider} failed to load: ${reason}`)
    }
  }
  throw new InputError(subject, `no execution provider could load the model (${failures.join('; ')})`)
}

const firstLine = (error: unknown): string => {
  const text = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim()
  return text.length > 160 ? `${text.slice(0, 157)}...` : text
}

/**
 * Opens the model with the requested provider (falling back to cpu) and checks its inputs and outputs. `fileFor`
 * says which .onnx each provider opens (choosePrecision: the int8 twin on cpu, fp32 elsewhere).
 */
export async function openSession(
  fileFor: (provider: ProviderName) => string,
  options: SessionOptions = {},
  env: ProviderEnvironment = detectEnvironment(),
): Promise<OpenedSession> {
  const threads = options.threads ?? defaultThreads()
  if (!Number.isInteger(threads) || threads < 1) throw new InputError('--threads', `must be a positive integer`)
  const candidates = providerCandidates(options.provider ?? 'auto', env)
  // onnxruntime's own log (set once per process, before the first session): a provider that fails to load logs an
  // error there before throwing; we report the failure in one line instead (PHONOSCOPE_DEBUG=1 shows the native log)
  ort.env.logLevel = process.env.PHONOSCOPE_DEBUG === '1' ? 'warning' : 'fatal'
  const factory: SessionFactory = (provider) =>
    ort.InferenceSession.create(fileFor(provider), {
      executionProviders: [provider],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableCpuMemArena: options.cpuMemArena ?? true,
      // busy-waiting pool threads steal the core the front end runs on when both work at once (evaluate, the app)
      ...(options.spinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
      // a provider that fails to load logs an error of its own before throwing; we report it in one line instead
      logSeverityLevel: provider === 'cpu' ? 3 : 4,
    })
  const opened = await openWithFallback(candidates, factory, fileFor('cpu'))
  const { inputNames, outputNames } = opened.session
  const missing = [
    ...['log_mel'].filter((n) => !inputNames.includes(n)).map((n) => `input ${n}`),
    ...['log_probs', 'attention'].filter((n) => !outputNames.includes(n)).map((n) => `output ${n}`),
  ]
  if (missing.length) {
    await opened.session.release()
    throw new InputError(
      fileFor(opened.provider),
      `ONNX model lacks ${missing.join(', ')} (see the model card contract)`,
    )
  }
  return { ...opened, threads }
}
