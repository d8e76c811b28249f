/**
 * The inference host's message protocol: one typed vocabulary for every transport (the Electron utilityProcess of
 * the app, the child process of the CLI and the server, an in-process port in tests). The host announces itself with
 * `ready` (its protocol version, checked by the client before anything else), holds one onnxruntime session and
 * answers requests in order, each reply carrying the request's id.
 */
import type { ModelCard, Precision, PrecisionRequest } from './model-card'

/** Changes with any incompatible change to the messages below: a host and a client of different builds refuse. */
export const INFERENCE_PROTOCOL_VERSION = 2

/** Execution providers Phonoscope knows how to ask onnxruntime-node for. */
export const PROVIDERS = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const
export type ProviderName = (typeof PROVIDERS)[number]
export type ProviderRequest = ProviderName | 'auto'

export interface LoadOptions {
  /** the .onnx file; its model card is the .json beside it */
  modelPath: string
  /** 'auto' (default): the platform's accelerator when present, else cpu */
  provider?: ProviderRequest
  /** intra-op threads (default: min(2, available cores)) */
  threads?: number
  /** 'auto' (default): the card's int8 twin on cpu when its CV figures pass INT8_GATE, fp32 elsewhere */
  precision?: PrecisionRequest
  /** onnxruntime's CPU memory arena (default true; the Electron host turns it off to give memory back) */
  cpuMemArena?: boolean
  /**
   * let idle intra-op threads busy-wait (onnxruntime's default, true): fastest for inference alone; off where the
   * front end runs at the same time on another thread (evaluate, the app)
   */
  spinning?: boolean
}

export interface ModelInfo {
  name: string
  version: string
  sha256: string
  path: string
  card: ModelCard
  /** the provider the session runs on */
  provider: ProviderName
  /** of the file that runs (path, sha256 and card are its own): fp32, or the int8 twin on cpu by default */
  precision: Precision
  /** which precision runs and why (the twin's CV figures, or why fp32 does) */
  precisionNote: string
  /** what was asked for, and why something else ran (fallback): what to log about the provider */
  providerNote: string
  threads: number
}

/** A batch of log-Mel windows, [batch, 1, frames, nMels] row-major. */
export interface WindowBatch {
  batch: number
  frames: number
  nMels: number
  data: Float32Array
}

export interface InferenceOutput {
  /** [batch, classes] log-softmax */
  logProbs: Float32Array
  /** [batch, classes, time', freq'] attention, as the model outputs it */
  attention: Float32Array
  attentionShape: [number, number, number, number]
  /**
   * [batch, labels] log-softmax of each descriptor head, by head name (labels as the card's heads list them); only
   * for a model whose card has heads
   */
  headLogProbs?: Record<string, Float32Array>
  /** milliseconds inside session.run */
  ms: number
}

export interface HostStats {
  pid: number
  /** resident set size now and at peak (bytes) */
  rssBytes: number
  maxRssBytes: number
  runs: number
  /** CPU time the host has used since it started (user + system, microseconds) */
  cpuMicros: number
}

export type HostRequest =
  | { id: number; type: 'load'; options: LoadOptions }
  | { id: number; type: 'infer'; input: WindowBatch }
  | { id: number; type: 'stats' }

export interface WireError {
  /** 'input': a problem the user can fix (InputError, exit 2); 'internal': anything else */
  kind: 'input' | 'internal'
  message: string
  subject?: string
  problem?: string
}

export type HostMessage =
  /** sent once, unasked, when the host starts */
  | { type: 'ready'; pid: number; protocol: number }
  | { id: number; type: 'loaded'; info: ModelInfo }
  | { id: number; type: 'output'; output: InferenceOutput }
  | { id: number; type: 'stats'; stats: HostStats }
  | { id: number; type: 'error'; error: WireError }

/** The host side of a transport: how the host receives requests and answers. */
export interface HostPort {
  post(message: HostMessage): void
  onMessage(handler: (message: HostRequest) => void): void
}
