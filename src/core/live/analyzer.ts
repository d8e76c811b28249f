import { setImmediate as nextTurn } from 'node:timers/promises'
import type { Site, WindowVerdict } from '../api/app'
import { CLASSES } from '../api/classes'
import { gateMinSeconds, type Inferer } from '../analysis/classify'
import { fromLogProbs, toRecord, verdictOf } from '../analysis/aggregate'
import { calibrate } from '../analysis/calibration'
import { recordingDescriptors, windowDescriptors } from '../analysis/descriptors'
import { assessQuality, gated, type Quality } from '../analysis/quality'
import { heartRateOf, segmentHeartCycles, type Segmentation } from '../analysis/segmentation'
import type { Samples } from '../audio/types'
import { LogMelStream, type LogMelBlock } from '../dsp/logmel'
import type { ModelCard } from '../api/model-card'
import { SampleRing } from './sample-ring'

export interface AnalyzerEvents {
  columns(block: LogMelBlock, firstFrame: number): void
  verdict(verdict: WindowVerdict): void
}

interface WindowJob {
  data: Float32Array
  /** the window's 4 kHz samples, for the quality gate */
  samples: Float32Array
  frames: number
  endFrame: number
}

/**
 * The live analysis of one site: 4 kHz samples in, log-Mel columns out as soon as they exist, and a verdict on the
 * last window (up to 936 frames) every `hopFrames`. Before a full window the verdict is provisional. Each window
 * passes the same quality gate as an offline classify (quality.ts on its own samples): one it refuses, and any
 * shorter than the gate's minimum, has no verdict. Inference runs beside capture, one window at a time: when it is
 * slower than the hop, only the newest waiting window is kept and the ones it replaces are counted as dropped, so
 * nothing queues without bound.
 */
export class LiveAnalyzer {
  private readonly logMel: LogMelStream
  private readonly window: Float32Array
  private readonly nMels: number
  private framesSeen = 0
  private nextVerdictAt: number
  private inFlight: Promise<void> | undefined
  private waiting: WindowJob | undefined
  /** the samples of the last window (and the few not yet in a frame): 480 kB at most */
  private readonly samples: SampleRing
  private readonly minSeconds: number
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
    const { hop_length, n_fft } = card.frontend
    this.samples = new SampleRing((card.windowing.window_frames - 1) * hop_length + n_fft + hop_length)
    this.minSeconds = gateMinSeconds(card)
  }

  get frames(): number {
    return this.framesSeen
  }

  push(samples: Samples): void {
    this.samples.push(samples)
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
    const { hop_length, n_fft } = this.card.frontend
    const endFrame = this.framesSeen
    const samples = this.samples.slice((endFrame - frames) * hop_length, (endFrame - 1) * hop_length + n_fft)
    if (this.waiting) this.dropped++
    this.waiting = { data, samples, frames, endFrame }
    if (!this.inFlight) this.inFlight = this.drain()
  }

  private async drain(): Promise<void> {
    while (this.waiting) {
      const job = this.waiting
      this.waiting = undefined
      const start = performance.now()
      const inference = this.inferer.infer({ batch: 1, frames: job.frames, nMels: this.nMels, data: job.data })
      // the gate (~35 ms on a 30 s window) runs while the model works in its own process or thread, so a window's
      // latency is the slower of the two rather than their sum; the inference client sends its request only after
      // an await, hence one turn of the event loop first (its failure is awaited below, not left unhandled meanwhile)
      inference.catch(() => undefined)
      await nextTurn()
      const span = this.assess(job.samples)
      this.events.verdict(this.toVerdict(job, await inference, span, performance.now() - start))
    }
    this.inFlight = undefined
  }

  private assess(samples: Float32Array): { segmentation: Segmentation | null; quality: Quality } {
    const rate = this.card.frontend.sample_rate
    const segmentation = segmentHeartCycles(samples, rate)
    return { segmentation, quality: assessQuality(samples, rate, segmentation, this.minSeconds) }
  }

  private toVerdict(
    job: WindowJob,
    output: Awaited<ReturnType<Inferer['infer']>>,
    { segmentation, quality }: { segmentation: Segmentation | null; quality: Quality },
    ms: number,
  ): WindowVerdict {
    // a window is shown on the card's recording scale (the temperature fitted on CirCor's recordings, whose unit is a
    // 30 s window's probabilities), so a live window sounds no surer than the site's final verdict will; the
    // temperature keeps the argmax
    const probabilities = calibrate(fromLogProbs(output.logProbs), this.card, 'recording')
    const top = verdictOf(probabilities)
    const verdict = gated(quality, () => top)
    // described as a recording of this one window is: only a murmur verdict
    const { heads } = this.card
    const descriptors = recordingDescriptors(verdict, [windowDescriptors(output.headLogProbs, heads)], heads)
    const [, , time, freq] = output.attentionShape
    const c = CLASSES.indexOf(top)
    const size = time * freq
    const { hop_length, sample_rate, n_fft } = this.card.frontend
    const firstFrame = job.endFrame - job.frames
    const start_s = (firstFrame * hop_length) / sample_rate
    const onsets = (times: number[]) => times.map((t) => Math.round((start_s + t) * 1000) / 1000)
    return {
      site: this.site,
      index: this.windowIndex++,
      start_s,
      end_s: ((job.endFrame - 1) * hop_length + n_fft) / sample_rate,
      provisional: job.frames < this.card.windowing.window_frames,
      probabilities: toRecord(probabilities),
      verdict,
      quality,
      heart_rate_bpm: gated(quality, () => (segmentation && heartRateOf(segmentation)?.bpm) ?? null),
      ...(quality.ok &&
        segmentation && { heart_sounds: { s1: onsets(segmentation.s1_onsets), s2: onsets(segmentation.s2_onsets) } }),
      ...(descriptors && { descriptors }),
      attention: { time, freq, data: Array.from(output.attention.subarray(c * size, (c + 1) * size)) },
      first_frame: firstFrame,
      frames: job.frames,
      provider: this.provider,
      ms,
    }
  }
}
