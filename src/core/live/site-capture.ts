import { setTimeout as sleep } from 'node:timers/promises'
import type { Events, SourceSpec } from '../api/app'
import { resampleStream } from '../audio/resample'
import type { Samples } from '../audio/types'
import type { WavWriter } from '../audio/wav-writer'
import type { LiveAnalyzer } from './analyzer'
import { DeviceLostError, levelOf, type AudioSource } from './source'
import { reopenSource } from './sources'

/** Audio reaches the disk at least this often (the crash-safety promise: at most the last second is lost). */
const FLUSH_MS = 1000
const RECONNECT_MS = 1000
const WAVEFORM_RATE = 200

type Without<E, K extends string> = Omit<E, K>

/** What a capture tells as it goes: the input level, the decimated waveform, a device lost and back. */
export interface CaptureEvents {
  level(level: Without<Events['level'], 'session'>): void
  waveform(waveform: Without<Events['waveform'], 'session' | 'site'>): void
  device(device: Without<Events['device'], 'session'>): void
}

/**
 * One site's recording: source -> disk (flushed every second) and source -> the model's rate -> the analyzer, until
 * stopped or the file ends. A lost device is reopened every second; the user hears of the loss once and of the return
 * once. The WAV is closed at the end whatever happened, so what reached the disk is always a valid WAV.
 */
export class SiteCapture {
  private stopping = false
  /** the device is gone and capture waits for it */
  private outage = false

  constructor(
    private source: AudioSource,
    private readonly spec: SourceSpec,
    readonly writer: WavWriter,
    readonly analyzer: LiveAnalyzer,
    private readonly modelRate: number,
    private readonly events: CaptureEvents,
  ) {}

  get stopped(): boolean {
    return this.stopping
  }

  /** Ends the capture (run then resolves once what was heard is settled and the WAV closed). */
  stop(): void {
    this.stopping = true
    this.source.stop()
  }

  /** Resolves when the source ended or was stopped; rejects when a write or the source failed for good. */
  async run(): Promise<void> {
    const flusher = setInterval(() => void this.writer.flush().catch(() => undefined), FLUSH_MS)
    try {
      for (;;) {
        try {
          const source = this.source
          for await (const chunk of resampleStream(this.tap(source), source.sampleRate, this.modelRate)) {
            this.analyzer.push(chunk)
          }
          break // the source ended (file) or was stopped
        } catch (error) {
          const again = error instanceof DeviceLostError && !this.stopping && reopenSource(this.spec, this.source)
          if (!again) throw error
          await this.writer.flush()
          if (!this.outage) {
            this.outage = true
            const message = `${error.message}; everything recorded is kept, waiting for the device to come back`
            this.events.device({ state: 'lost', message })
          }
          await sleep(RECONNECT_MS)
          if (this.stopping) break
          this.source = again
        }
      }
      await this.analyzer.settle()
    } finally {
      clearInterval(flusher)
      await this.writer.close() // also when a write failed: what reached the disk is a valid WAV
    }
  }

  /** Every chunk as it arrives: level meter, waveform, and the lossless copy on disk. */
  private async *tap(source: AudioSource): AsyncGenerator<Samples> {
    const step = Math.max(1, Math.round(source.sampleRate / WAVEFORM_RATE))
    for await (const chunk of source.chunks()) {
      if (this.outage) {
        this.outage = false
        this.events.device({ state: 'restored', message: `${source.label} is back; recording goes on` })
      }
      await this.writer.append(chunk)
      this.events.level(levelOf(chunk))
      const waveform: number[] = []
      for (let i = 0; i < chunk.length; i += step) waveform.push(chunk[i]!)
      this.events.waveform({ rate: source.sampleRate / step, data: waveform })
      yield chunk
    }
  }
}
