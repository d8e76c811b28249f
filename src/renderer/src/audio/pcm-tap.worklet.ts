// An AudioWorklet that hands the microphone's samples to the page in blocks of about 100 ms, untouched (no gain, no
// filtering): the server resamples to 4 kHz and analyses them exactly as it does a stethoscope's.

// The AudioWorkletGlobalScope's names (not in TypeScript's DOM lib).
declare const sampleRate: number
declare class AudioWorkletProcessor {
  readonly port: MessagePort
}
declare function registerProcessor(name: string, processor: new () => AudioWorkletProcessor): void

class PcmTap extends AudioWorkletProcessor {
  private block = new Float32Array(Math.round(sampleRate / 10))
  private filled = 0

  process(inputs: Float32Array[][]): boolean {
    const channel = inputs[0]?.[0]
    if (!channel) return true
    let offset = 0
    while (offset < channel.length) {
      const n = Math.min(channel.length - offset, this.block.length - this.filled)
      this.block.set(channel.subarray(offset, offset + n), this.filled)
      this.filled += n
      offset += n
      if (this.filled === this.block.length) {
        this.port.postMessage(this.block, [this.block.buffer])
        this.block = new Float32Array(this.block.length)
        this.filled = 0
      }
    }
    return true
  }
}

registerProcessor('pcm-tap', PcmTap)
