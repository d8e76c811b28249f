import type { Samples } from '../audio/types'
import type { AudioSource } from './source'

/** The most unconsumed audio kept (seconds); a stalled consumer drops the oldest rather than growing memory. */
const MAX_BACKLOG_S = 10

/**
 * PCM pushed by a browser (getUserMedia -> AudioWorklet -> WebSocket) in server mode, as an AudioSource.
 * Automatic gain, noise suppression and echo cancellation are off on the page: they would change murmur loudness.
 */
export class BrowserSource implements AudioSource {
  readonly label = 'browser microphone'
  private queue: Samples[] = []
  private queued = 0
  private wake: (() => void) | undefined
  private stopped = false

  constructor(readonly sampleRate: number) {}

  push(samples: Float32Array): void {
    if (this.stopped) return
    this.queue.push(samples)
    this.queued += samples.length
    while (this.queued > MAX_BACKLOG_S * this.sampleRate) this.queued -= this.queue.shift()!.length
    this.wake?.()
  }

  stop(): void {
    this.stopped = true
    this.wake?.()
  }

  async *chunks(): AsyncGenerator<Samples> {
    while (!this.stopped || this.queue.length > 0) {
      const next = this.queue.shift()
      if (next) {
        this.queued -= next.length
        yield next
      } else await new Promise<void>((resolve) => (this.wake = resolve))
    }
  }
}
