import { deflateSync } from 'node:zlib'

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(body.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0)
  return Buffer.concat([head, body, crc])
}

/** An 8-bit RGB PNG from rows of width * 3 bytes, top row first. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  const raw = Buffer.alloc(height * (width * 3 + 1))
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0 // filter: none
    raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1)
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8) // 8 bits, RGB, deflate, no filter method, no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  ])
}

/** A black-red-yellow-white ramp for t in [0, 1]. */
export function heat(t: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, t))
  return [
    Math.round(255 * Math.min(1, 3 * v)),
    Math.round(255 * Math.min(1, Math.max(0, 3 * v - 1))),
    Math.round(255 * Math.max(0, 3 * v - 2)),
  ]
}

/**
 * The spectrogram (top, grey) above the attention of one class (bottom, heat), time left to right, low frequencies
 * at the bottom of each panel; each panel scaled to its own range.
 */
export function attentionPng(logMel: Float32Array, attention: Float32Array, frames: number, nMels: number): Buffer {
  const height = 2 * nMels
  const rgb = new Uint8Array(frames * height * 3)
  const range = (a: Float32Array) => {
    let lo = Infinity
    let hi = -Infinity
    for (const v of a) {
      if (!Number.isFinite(v)) continue
      lo = Math.min(lo, v)
      hi = Math.max(hi, v)
    }
    return [lo, hi > lo ? hi - lo : 1] as const
  }
  const [specLo, specSpan] = range(logMel)
  const [attLo, attSpan] = range(attention)
  for (let f = 0; f < frames; f++) {
    for (let m = 0; m < nMels; m++) {
      const grey = Math.round((255 * (logMel[f * nMels + m]! - specLo)) / specSpan)
      const top = ((nMels - 1 - m) * frames + f) * 3
      rgb.set([grey, grey, grey], top)
      const bottom = ((2 * nMels - 1 - m) * frames + f) * 3
      rgb.set(heat((attention[f * nMels + m]! - attLo) / attSpan), bottom)
    }
  }
  return encodePng(frames, height, rgb)
}
