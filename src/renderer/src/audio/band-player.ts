/**
 * Plays a recording through a stethoscope-like band: bell (low band, where S3/S4 and rumbles are heard), diaphragm
 * (high band: S1/S2 and most systolic murmurs) or the full recording, with gain. Web Audio only; the position is read
 * from the audio clock, so a cursor that follows it is in step with what is heard.
 */
export type Band = 'full' | 'bell' | 'diaphragm'

export const BANDS: Record<Band, { label: string; filters: BiquadFilterType[]; hz: number[] }> = {
  full: { label: 'Full', filters: [], hz: [] },
  bell: { label: 'Bell (20–200 Hz)', filters: ['highpass', 'lowpass'], hz: [20, 200] },
  diaphragm: { label: 'Diaphragm (200–1000 Hz)', filters: ['highpass', 'lowpass'], hz: [200, 1000] },
}

export class BandPlayer {
  private readonly context = new AudioContext()
  private readonly gain = this.context.createGain()
  private buffer: AudioBuffer | undefined
  private source: AudioBufferSourceNode | undefined
  private filters: BiquadFilterNode[] = []
  private startedAt = 0
  private offset = 0
  private band: Band = 'full'
  onEnded: () => void = () => undefined

  constructor() {
    this.gain.connect(this.context.destination)
  }

  async load(wav: ArrayBuffer): Promise<number> {
    this.stop()
    this.buffer = await this.context.decodeAudioData(wav)
    this.offset = 0
    return this.buffer.duration
  }

  get playing(): boolean {
    return this.source !== undefined
  }

  get duration(): number {
    return this.buffer?.duration ?? 0
  }

  /** seconds into the recording */
  get position(): number {
    if (!this.source) return this.offset
    return Math.min(this.duration, this.offset + this.context.currentTime - this.startedAt)
  }

  async play(): Promise<void> {
    if (!this.buffer || this.source) return
    await this.context.resume()
    if (this.offset >= this.duration) this.offset = 0
    const source = this.context.createBufferSource()
    source.buffer = this.buffer
    source.connect(this.chain())
    source.onended = () => {
      if (this.source !== source) return
      this.source = undefined
      this.offset = this.duration
      this.onEnded()
    }
    this.source = source
    this.startedAt = this.context.currentTime
    source.start(0, this.offset)
  }

  pause(): void {
    this.offset = this.position
    this.stop()
  }

  seek(seconds: number): void {
    const playing = this.playing
    this.stop()
    this.offset = Math.min(Math.max(0, seconds), this.duration)
    if (playing) void this.play()
  }

  setBand(band: Band): void {
    this.band = band
    if (this.source) this.seek(this.position) // rebuilds the chain at the same place
  }

  setGainDb(db: number): void {
    this.gain.gain.value = 10 ** (db / 20)
  }

  close(): void {
    this.stop()
    void this.context.close()
  }

  private stop(): void {
    const source = this.source
    this.source = undefined
    source?.stop()
    source?.disconnect()
    for (const filter of this.filters) filter.disconnect()
    this.filters = []
  }

  /** The band's filters in series into the gain; returns the first node. */
  private chain(): AudioNode {
    const { filters, hz } = BANDS[this.band]
    this.filters = filters.map((type, i) => {
      const filter = this.context.createBiquadFilter()
      filter.type = type
      filter.frequency.value = hz[i]!
      return filter
    })
    let next: AudioNode = this.gain
    for (const filter of [...this.filters].reverse()) {
      filter.connect(next)
      next = filter
    }
    return next
  }
}
