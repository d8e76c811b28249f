import type { HostMessage, HostPort, HostRequest, LoadOptions, WireError } from '../api/inference'
import { INFERENCE_PROTOCOL_VERSION } from '../api/inference'
import { isInputError } from '../errors'
import { OnnxModel } from './engine'

export function toWireError(error: unknown): WireError {
  if (isInputError(error))
    return { kind: 'input', message: error.message, subject: error.subject, problem: error.problem }
  return { kind: 'internal', message: error instanceof Error ? error.message : String(error) }
}

/**
 * The inference host's loop, independent of the transport: it announces itself (`ready`, with the protocol version),
 * holds at most one session (a new `load` replaces it), answers requests strictly in order and turns every failure
 * into an `error` reply for that request.
 * `defaults.cpuMemArena` applies when a load request does not say (false in the Electron utility process).
 */
export function serveInference(port: HostPort, defaults: Pick<LoadOptions, 'cpuMemArena' | 'spinning'> = {}): void {
  let model: OnnxModel | undefined
  let runs = 0
  let queue: Promise<void> = Promise.resolve()

  const handle = async (request: HostRequest): Promise<HostMessage> => {
    const { id } = request
    try {
      switch (request.type) {
        case 'load': {
          const next = await OnnxModel.load({ ...defaults, ...request.options })
          await model?.release()
          model = next
          return { id, type: 'loaded', info: model.info }
        }
        case 'infer': {
          if (!model) throw new Error('no model loaded (send a load request first)')
          const output = await model.infer(request.input)
          runs++
          return { id, type: 'output', output }
        }
        case 'stats': {
          const usage = process.resourceUsage()
          const stats = {
            pid: process.pid,
            rssBytes: process.memoryUsage.rss(),
            maxRssBytes: usage.maxRSS * 1024,
            runs,
            cpuMicros: usage.userCPUTime + usage.systemCPUTime,
          }
          return { id, type: 'stats', stats }
        }
        default:
          throw new Error(`unknown request ${JSON.stringify((request as { type: unknown }).type)}`)
      }
    } catch (error) {
      return { id, type: 'error', error: toWireError(error) }
    }
  }

  port.onMessage((request) => {
    queue = queue.then(async () => {
      port.post(await handle(request))
    })
  })
  port.post({ type: 'ready', pid: process.pid, protocol: INFERENCE_PROTOCOL_VERSION })
}
