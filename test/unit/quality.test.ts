import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { classifyFeatures, sessionVerdict, type Inferer } from '../../src/core/analysis/classify'
import { assessQuality, withheldText, type QualityReason } from '../../src/core/analysis/quality'
import { recordingFeatures } from '../../src/core/analysis/recording'
import { segmentHeartCycles } from '../../src/core/analysis/segmentation'
import { defaultModelPath, loadModelCard } from '../../src/core/model/card'
import { DEFAULT_FRONTEND } from '../../src/core/dsp/params'
import { featuresOf, gaussianNoise, RATE, syntheticPcg } from '../helpers/heart-sounds'
import { corpus, scratch } from '../helpers/paths'

const card = loadModelCard(defaultModelPath())

/** A model that always answers "mild" 80 %: the gate, not the model, must decide whether a verdict is shown. */
const confident: Inferer = {
  infer: async ({ frames }) => {
    const time = Math.floor(frames / 16)
    return {
      logProbs: Float32Array.from([0.1, 0.8, 0.1], Math.log),
      attention: new Float32Array(3 * time * 4),
      attentionShape: [1, 3, time, 4],
      ms: 0,
    }
  },
}

const heart = () => syntheticPcg(90, 20).signal
const quality = (signal: Float32Array) => assessQuality(signal, RATE, segmentHeartCycles(signal, RATE))

const espeak = (() => {
  try {
    execFileSync('espeak-ng', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

const cases: [string, () => Float32Array | Promise<Float32Array>, QualityReason][] = [
  ['digital silence', () => new Float32Array(30 * RATE), 'silence'],
  ['white noise', () => gaussianNoise(20 * RATE, 0.1), 'noise'],
  [
    'a 440 Hz tone',
    () => Float32Array.from({ length: 20 * RATE }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / RATE)),
    'noise',
  ],
  ['a clipped heart recording', () => heart().map((v) => Math.max(-0.05, Math.min(0.05, v)) / 0.05), 'clipping'],
  ['a 2 s clip', () => heart().subarray(0, 2 * RATE), 'too_short'],
  [
    'a stethoscope lifted for 3 s',
    () => {
      const s = heart()
      s.fill(0, 8 * RATE, 11 * RATE)
      return s
    },
    'lost_contact',
  ],
]

describe('the quality gate', () => {
  it('passes heart sounds, and the model grades them', async () => {
    expect(quality(heart())).toMatchObject({ ok: true, reasons: [] })
    const result = await classifyFeatures(featuresOf(heart()), card, confident)
    expect(result.verdict).toBe('mild')
    expect(result.heart_rate!.bpm).toBeCloseTo(90, -0.5)
    expect(result.windows[0]!.verdict).toBe('mild')
  })

  it.each(cases)('withholds %s (%s)', async (_, make, reason) => {
    const signal = await make()
    const q = quality(signal)
    expect(q.ok).toBe(false)
    expect(q.score).toBeLessThan(0.5)
    expect(q.reasons).toContain(reason)
    const result = await classifyFeatures(featuresOf(signal), card, confident)
    expect(result.verdict).toBeNull()
    expect(result.windows.every((w) => w.verdict === null)).toBe(true)
    expect(result.quality.reasons).toContain(reason)
    expect(withheldText(result.quality)).toMatch(
      new RegExp(`^insufficient quality: .*${reason.replace('_', ' ')}.*, re-record$`),
    )
  })

  // CI installs espeak-ng (scripts/setup.sh): there a missing one fails instead of skipping
  it.skipIf(!espeak && process.env.CI !== 'true')('withholds speech (espeak-ng)', async () => {
    const { put } = scratch('phonoscope-speech-')
    const wav = put('speech.wav', '')
    execFileSync('espeak-ng', [
      '-w',
      wav,
      'The patient is lying down and breathing normally. Please hold still while I listen to your heart.',
    ])
    const { signal } = await recordingFeatures(wav, DEFAULT_FRONTEND)
    const q = quality(signal)
    expect(q.ok).toBe(false)
    expect(q.reasons).toContain('speech')
  })

  it('a session verdict leaves withheld recordings out, and is withheld when none is left', async () => {
    const good = await classifyFeatures(featuresOf(heart(), 'good.wav'), card, confident)
    const silent = await classifyFeatures(featuresOf(new Float32Array(30 * RATE), 'silent.wav'), card, confident)
    expect(sessionVerdict([good, silent], card)).toMatchObject({ recordings: 1, withheld: 1, verdict: 'mild' })
    expect(sessionVerdict([silent], card)).toMatchObject({ recordings: 0, withheld: 1, verdict: null })
  })

  it('a recording shorter than the model window is graded but marked not final', async () => {
    const result = await classifyFeatures(featuresOf(heart()), card, confident)
    expect(result.final).toBe(false)
    const long = await classifyFeatures(featuresOf(syntheticPcg(90, 35).signal), card, confident)
    expect(long.final).toBe(true)
  })

  const { available, dir } = corpus()
  it.skipIf(!available || !existsSync(join(dir, 'audio', '13918_MV.flac')))(
    'passes a real CirCor recording',
    async () => {
      const { signal } = await recordingFeatures(join(dir, 'audio', '13918_MV.flac'), DEFAULT_FRONTEND)
      expect(quality(signal).ok).toBe(true)
    },
  )
})
