/** The rate a recording is decoded at for display: S1 and S2 lie under 200 Hz, well inside it. */
const DECODE_RATE = 4000
/** Points per second of the waveform drawn: two per canvas pixel over the six seconds on screen. */
export const DISPLAY_RATE = 400

/**
 * A recorded site's waveform for display: decoded (WAV bytes) and cut to DISPLAY_RATE by keeping the largest
 * deflection of each block, so that no heart sound's peak is lost to the decimation.
 */
export async function recordingWaveform(wav: Uint8Array): Promise<{ rate: number; data: Float32Array }> {
  const context = new OfflineAudioContext(1, 1, DECODE_RATE)
  const audio = await context.decodeAudioData(wav.slice().buffer)
  const decoded = audio.getChannelData(0)
  const step = Math.round(DECODE_RATE / DISPLAY_RATE)
  const data = new Float32Array(Math.ceil(decoded.length / step))
  for (let block = 0; block < data.length; block++) {
    let peak = 0
    for (let i = block * step; i < Math.min(decoded.length, (block + 1) * step); i++) {
      if (Math.abs(decoded[i]!) > Math.abs(peak)) peak = decoded[i]!
    }
    data[block] = peak
  }
  return { rate: DECODE_RATE / step, data }
}
