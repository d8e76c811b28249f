import { describe, expect, it } from 'vitest'
import { coverageWeightedAttention } from '../../src/core/analysis/attention'
import { planWindows, windowInput } from '../../src/core/analysis/windowing'
import type { Windowing } from '../../src/core/api/model-card'
import { runPython } from './model-fixture'

const W: Windowing = {
  window_frames: 936,
  hop_frames: 468,
  min_frames: 64,
  short_input: 'as_is',
  pad: 'wrap',
  last_window: 'align_end',
  recording_rule: 'mean',
}
const spans = (n: number, hop?: number) => planWindows(n, W, hop).map((w) => [w.start, w.end, w.length, w.kind])

describe('planWindows (the model card windowing)', () => {
  it('wrap-pads a recording shorter than min_frames to min_frames', () => {
    expect(spans(10)).toEqual([[0, 10, 64, 'wrap_padded']])
    expect(planWindows(1, W)[0]!.padded).toBe(true)
    expect(spans(63)).toEqual([[0, 63, 64, 'wrap_padded']])
  })
  it('runs a recording shorter than a window once at its own length', () => {
    expect(spans(64)).toEqual([[0, 64, 64, 'whole']])
    expect(spans(500)).toEqual([[0, 500, 500, 'whole']])
    expect(planWindows(500, W)[0]!.padded).toBe(false)
  })
  it('gives exactly one window for exactly window_frames', () => {
    expect(spans(936)).toEqual([[0, 936, 936, 'whole']])
  })
  it('adds a window aligned to the end one frame over', () => {
    expect(spans(937)).toEqual([
      [0, 936, 936, 'full'],
      [1, 937, 936, 'last_aligned'],
    ])
  })
  it('adds no extra window when the hop grid ends at the last frame', () => {
    expect(spans(1404)).toEqual([
      [0, 936, 936, 'full'],
      [468, 1404, 936, 'full'],
    ])
  })
  it('cuts a long recording on the hop grid plus the end-aligned window', () => {
    expect(spans(2000)).toEqual([
      [0, 936, 936, 'full'],
      [468, 1404, 936, 'full'],
      [936, 1872, 936, 'full'],
      [1064, 2000, 936, 'last_aligned'],
    ])
    expect(spans(2000, 936)).toEqual([
      [0, 936, 936, 'full'],
      [936, 1872, 936, 'full'],
      [1064, 2000, 936, 'last_aligned'],
    ])
  })
  it('refuses empty recordings and bad hops', () => {
    expect(() => planWindows(0, W)).toThrow(RangeError)
    expect(() => planWindows(100, W, 0)).toThrow(RangeError)
  })
  it('matches training/phonoscope_training/data.py inference_windows for many lengths and hops', () => {
    const cases = [1, 2, 15, 63, 64, 65, 100, 935, 936, 937, 1403, 1404, 1405, 1871, 1872, 1873, 5000, 28123]
    const hops = [468, 100, 936, 1000]
    const python = JSON.parse(
      runPython(
        `import json\nfrom phonoscope_training.data import inference_windows as w\n` +
          `print(json.dumps([[w(n, 936, h, 64) for n in ${JSON.stringify(cases)}] for h in ${JSON.stringify(hops)}]))`,
      ),
    ) as number[][][][]
    hops.forEach((h, i) =>
      cases.forEach((n, j) => {
        expect(planWindows(n, W, h).map((p) => [p.start, p.end, p.length])).toEqual(python[i]![j])
      }),
    )
  })
})

describe('windowInput', () => {
  it('copies a window and tiles a short recording (pad "wrap")', () => {
    const nMels = 2
    const data = Float32Array.from({ length: 5 * nMels }, (_, i) => i) // frames 0..4: [0,1], [2,3], ...
    const tiled = windowInput(data, nMels, {
      index: 0,
      start: 0,
      end: 5,
      length: 12,
      kind: 'wrap_padded',
      padded: true,
    })
    expect(Array.from(tiled)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3])
    const cut = windowInput(data, nMels, { index: 1, start: 2, end: 4, length: 2, kind: 'full', padded: false })
    expect(Array.from(cut)).toEqual([4, 5, 6, 7])
  })
})

describe('attention on the recording frames', () => {
  it('maps each frame to the attention cell it falls in (16-frame cells, tail to the last cell)', () => {
    const map = { first_frame: 0, frames: 35, time: 2, freq: 2, data: [1, 2, 3, 4] }
    const grid = coverageWeightedAttention([map], 35)!.data // 35 frames -> cells of 17 frames; frame 34 -> last cell
    expect([grid[0], grid[1], grid[16 * 2], grid[17 * 2], grid[34 * 2 + 1]]).toEqual([2, 4, 2, 6, 8])
  })
  it('averages overlapping windows over the recording', () => {
    const one = (first_frame: number, v: number) => ({ first_frame, frames: 4, time: 1, freq: 1, data: [v] })
    const grid = coverageWeightedAttention([one(0, 1), one(2, 3)], 6)!
    expect(Array.from(grid.data)).toEqual([1, 1, 2, 2, 3, 3])
  })
})
