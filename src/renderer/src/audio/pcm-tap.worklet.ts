// An AudioWorklet that hands the microphone's samples to the page in blocks of about 100 ms, untouched (no gain, no
// filtering): the server resamples to 4 kHz and analyses them exactly as it does a stethoscope's.

// The AudioWorkletGlobalScope's names (not in TypeScript's DOM lib).
declare const sampleRate: number
declare class AudioWorkletProcessor {
  readonly port: MessagePort
}
declare function registerProcessor(name: string, processor: new () => AudioWorkletProcessor): void

class PcmTap extends AudioWorkletProcessor {
  private readonly size = Math.round(sampleRate / 10)
  private block = new Float32Array(this.size)
  private filled = 0

  process(inputs: Float32Array[][]): boolean {
    const channel = inputs[0]?.[0]
    if (!channel) return true
    let offset = 0
    while (offset < channel.length) {
      const n = Math.min(channel.length - offset, this.size - this.filled)
      this.block.set(channel.subarray(offset, offset + n), this.filled)
      this.filled += n
      offset += n
      if (this.filled === this.size) {
        // the block's buffer moves to the page (a detached buffer has length 0: hence `size`)
        this.port.postMessage(this.block, [this.block.buffer])
        this.block = new Float32Array(this.size)
        this.filled = 0
      }
    }
    return true
  }
}

registerProcessor('pcm-tap', PcmTap)
