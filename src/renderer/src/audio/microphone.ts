import workletUrl from './pcm-tap.worklet.ts?worker&url'

/**
 * The browser's microphone as a stethoscope (server mode). Echo cancellation, noise suppression and automatic gain
 * are all off: they would change a murmur's loudness, which is what the classes grade.
 */
export class MicrophoneCapture {
  private constructor(
    private readonly context: AudioContext,
    private readonly stream: MediaStream,
  ) {}

  /** The sample rate the microphone's PCM arrives at (the AudioContext's). */
  static async sampleRate(): Promise<number> {
    const context = new AudioContext()
    const rate = context.sampleRate
    await context.close()
    return rate
  }

  static async start(onSamples: (samples: Float32Array) => void): Promise<MicrophoneCapture> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new Error('this browser gives no microphone access here (a secure context, https or localhost, is needed)')
    }
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
    })
    const context = new AudioContext()
    await context.audioWorklet.addModule(workletUrl)
    const tap = new AudioWorkletNode(context, 'pcm-tap', { numberOfInputs: 1, numberOfOutputs: 0 })
    tap.port.onmessage = (event: MessageEvent<Float32Array>) => onSamples(event.data)
    context.createMediaStreamSource(stream).connect(tap)
    return new MicrophoneCapture(context, stream)
  }

  stop(): void {
    for (const track of this.stream.getTracks()) track.stop()
    void this.context.close()
  }
}
