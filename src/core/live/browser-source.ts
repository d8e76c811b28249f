import type { Samples } from '../audio/types'
import { InputError } from '../errors'
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
  /** non-finite samples (NaN/Inf from a broken driver or page) dropped so far: one would poison every later window */
  dropped = 0
  /** samples pushed since the drops were last reported, so that a page sending NaNs is not told 50 times a second */
  private sinceReport = Infinity

  constructor(readonly sampleRate: number) {}

  /** Queues a frame, without its non-finite samples; throws an InputError saying how many were dropped (at most once a second). */
  push(samples: Float32Array): void {
    if (this.stopped) return
    this.sinceReport += samples.length
    const finite = samples.every(Number.isFinite) ? samples : samples.filter(Number.isFinite)
    if (finite.length > 0) this.enqueue(finite)
    const dropped = samples.length - finite.length
    if (dropped === 0) return
    this.dropped += dropped
    if (this.sinceReport < this.sampleRate) return
    this.sinceReport = 0
    throw new InputError(this.label, `${this.dropped} non-finite samples (NaN/Inf) dropped so far`)
  }

  private enqueue(samples: Float32Array): void {
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
