import type { Site, WindowVerdict } from '../api/app'
import { CLASSES } from '../api/classes'
import type { Inferer } from '../analysis/classify'
import { fromLogProbs, toRecord, verdictOf } from '../analysis/aggregate'
import type { Samples } from '../audio/types'
import { LogMelStream, type LogMelBlock } from '../dsp/logmel'
import type { ModelCard } from '../api/model-card'

export interface AnalyzerEvents {
  columns(block: LogMelBlock, firstFrame: number): void
  verdict(verdict: WindowVerdict): void
}

/**
 * The live analysis of one site: 4 kHz samples in, log-Mel columns out as soon as they exist, and a verdict on the
 * last window (up to 936 frames) every `hopFrames`. Before a full window the verdict is provisional. Inference runs
 * beside capture, one window at a time: when it is slower than the hop, only the newest waiting window is kept and
 * the ones it replaces are counted as dropped, so nothing queues without bound.
 */
export class LiveAnalyzer {
  private readonly logMel: LogMelStream
  private readonly window: Float32Array
  private readonly nMels: number
  private framesSeen = 0
  private nextVerdictAt: number
  private inFlight: Promise<void> | undefined
  private waiting: { data: Float32Array; frames: number; endFrame: number } | undefined
  private windowIndex = 0
  dropped = 0

  constructor(
    private readonly site: Site,
    private readonly card: ModelCard,
    private readonly inferer: Inferer,
    private readonly hopFrames: number,
    private readonly events: AnalyzerEvents,
    private readonly provider: string,
  ) {
    this.logMel = new LogMelStream(card.frontend)
    this.nMels = card.frontend.n_mels
    this.window = new Float32Array(card.windowing.window_frames * this.nMels)
    this.nextVerdictAt = Math.min(hopFrames, card.windowing.window_frames)
  }

  get frames(): number {
    return this.framesSeen
  }

  push(samples: Samples): void {
    const block = this.logMel.push(samples)
    if (block.frames === 0) return
    this.remember(block)
    this.events.columns(block, this.framesSeen)
    this.framesSeen += block.frames
    if (this.framesSeen >= this.nextVerdictAt && this.framesSeen >= this.card.windowing.min_frames) {
      this.nextVerdictAt = this.framesSeen + this.hopFrames
      this.schedule()
    }
  }

  /** Waits for the inference under way (and the one waiting) to finish. */
  async settle(): Promise<void> {
    while (this.inFlight) await this.inFlight
  }

  /** Keeps the last window_frames columns, oldest first, in `window` (a sliding copy; 240 kB at most). */
  private remember(block: LogMelBlock): void {
    const keep = this.window.length
    const incoming = block.data.length
    if (incoming >= keep) {
      this.window.set(block.data.subarray(incoming - keep))
    } else {
      this.window.copyWithin(0, incoming)
      this.window.set(block.data, keep - incoming)
    }
  }

  private schedule(): void {
    const frames = Math.min(this.framesSeen, this.card.windowing.window_frames)
    const data = this.window.slice(this.window.length - frames * this.nMels)
    if (this.waiting) this.dropped++
    this.waiting = { data, frames, endFrame: this.framesSeen }
    if (!this.inFlight) this.inFlight = this.drain()
  }

  private async drain(): Promise<void> {
    while (this.waiting) {
      const job = this.waiting
      this.waiting = undefined
      const start = performance.now()
      const output = await this.inferer.infer({ batch: 1, frames: job.frames, nMels: this.nMels, data: job.data })
      this.events.verdict(this.toVerdict(job, output, performance.now() - start))
    }
    this.inFlight = undefined
  }

  private toVerdict(
    job: { frames: number; endFrame: number },
    output: Awaited<ReturnType<Inferer['infer']>>,
    ms: number,
  ): WindowVerdict {
    const probabilities = fromLogProbs(output.logProbs)
    const verdict = verdictOf(probabilities)
    const [, , time, freq] = output.attentionShape
    const c = CLASSES.indexOf(verdict)
    const size = time * freq
    const { hop_length, sample_rate, n_fft } = this.card.frontend
    const firstFrame = job.endFrame - job.frames
    return {
      site: this.site,
      index: this.windowIndex++,
      start_s: (firstFrame * hop_length) / sample_rate,
      end_s: ((job.endFrame - 1) * hop_length + n_fft) / sample_rate,
      provisional: job.frames < this.card.windowing.window_frames,
      probabilities: toRecord(probabilities),
      verdict,
      attention: { time, freq, data: Array.from(output.attention.subarray(c * size, (c + 1) * size)) },
      first_frame: firstFrame,
      frames: job.frames,
      provider: this.provider,
      ms,
    }
  }
}
