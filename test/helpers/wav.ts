/** Builds WAV files byte by byte, so tests can make exactly the broken or unusual headers they need. */
export function wavBytes(options: {
  samples?: number[][]
  sampleRate?: number
  bits?: 8 | 16 | 24 | 32
  format?: number
  channels?: number
  declaredDataBytes?: number
}): Buffer {
  const { sampleRate = 4000, bits = 16, format = 1 } = options
  const samples = options.samples ?? [[0]]
  const channels = options.channels ?? samples[0]?.length ?? 1
  const bytesPerSample = bits / 8
  const data = Buffer.alloc(samples.length * channels * bytesPerSample)
  samples.forEach((frame, f) =>
    frame.forEach((v, c) => {
      const at = (f * channels + c) * bytesPerSample
      if (bits === 16) data.writeInt16LE(Math.round(v * 32767), at)
      else if (bits === 8) data.writeUInt8(Math.round(v * 127 + 128), at)
      else if (bits === 24) data.writeIntLE(Math.round(v * 8388607), at, 3)
      else data.writeInt32LE(Math.round(v * 2147483647), at)
    }),
  )
  const fmt = Buffer.alloc(24)
  fmt.write('fmt ', 0, 'latin1')
  fmt.writeUInt32LE(16, 4)
  fmt.writeUInt16LE(format, 8)
  fmt.writeUInt16LE(channels, 10)
  fmt.writeUInt32LE(sampleRate, 12)
  fmt.writeUInt32LE(sampleRate * channels * bytesPerSample, 16)
  fmt.writeUInt16LE(channels * bytesPerSample, 20)
  fmt.writeUInt16LE(bits, 22)
  const dataHeader = Buffer.alloc(8)
  dataHeader.write('data', 0, 'latin1')
  dataHeader.writeUInt32LE(options.declaredDataBytes ?? data.length, 4)
  const riff = Buffer.alloc(12)
  riff.write('RIFF', 0, 'latin1')
  riff.writeUInt32LE(4 + fmt.length + dataHeader.length + data.length, 4)
  riff.write('WAVE', 8, 'latin1')
  return Buffer.concat([riff, fmt, dataHeader, data])
}

export const sine = (freq: number, seconds: number, rate: number, amplitude = 0.5): number[][] =>
  Array.from({ length: Math.round(seconds * rate) }, (_, i) => [amplitude * Math.sin((2 * Math.PI * freq * i) / rate)])
