/**
 * Fits the heart-cycle segmentation's parameters (src/core/analysis/segmentation-model.json) on CirCor's annotated
 * recordings of folds 0-3, so fold 4 stays held out: each state's duration (S1 and S2 a mean and sd; systole and
 * diastole a line in the cycle length, with the sd around it) and each state's Gaussian over the heart-sound
 * features. Run: npx tsx scripts/fit-segmentation.ts [DATA_DIR]  (default ../shared/data/circor)
 */
import { writeFileSync } from 'node:fs'
import { basename, extname, join } from 'node:path'
import { codeAt, readAnnotation, type AnnotatedSegment } from '../src/core/analysis/annotation'
import { FEATURE_COUNT, FEATURE_RATE, heartSoundFeatures } from '../src/core/analysis/heart-rate'
import { readCsvTable } from '../src/core/analysis/manifest'
import { recordingFeatures } from '../src/core/analysis/recording'
import { DEFAULT_FRONTEND } from '../src/core/dsp/params'

const root = process.argv[2] ?? '../shared/data/circor'
const TRAIN_FOLDS = new Set(['0', '1', '2', '3'])
const { records, column } = readCsvTable(join(root, 'manifest.csv'))
const train = records.filter((r) => TRAIN_FOLDS.has(r[column('fold')]!)).map((r) => r[column('path')]!)

const k = FEATURE_COUNT
const sums = Array.from({ length: 4 }, () => ({ n: 0, s: new Float64Array(k), ss: new Float64Array(k * k) }))
const s1: number[] = []
const s2: number[] = []
const cycles: { cycle: number; systole: number; diastole: number }[] = []

function durations(segments: AnnotatedSegment[]): void {
  for (let i = 0; i + 4 < segments.length; i++) {
    const run = segments.slice(i, i + 5)
    if (run.map((s) => s.code).join() !== '1,2,3,4,1') continue
    const d = run.map((s) => s.end_s - s.start_s)
    s1.push(d[0]!)
    s2.push(d[2]!)
    cycles.push({ cycle: run[4]!.start_s - run[0]!.start_s, systole: d[1]!, diastole: d[3]! })
  }
}

for (const [i, path] of train.entries()) {
  const segments = readAnnotation(join(root, 'segmentation', `${basename(path, extname(path))}.tsv`))
  durations(segments)
  const { signal } = await recordingFeatures(join(root, path), DEFAULT_FRONTEND)
  const f = heartSoundFeatures(signal, DEFAULT_FRONTEND.sample_rate)
  for (let t = 0; t < f.frames; t++) {
    const code = codeAt(segments, (t + 0.5) / FEATURE_RATE)
    if (code === 0) continue
    const acc = sums[code - 1]!
    acc.n++
    for (let a = 0; a < k; a++) {
      const va = f.data[t * k + a]!
      acc.s[a]! += va
      for (let b = 0; b < k; b++) acc.ss[a * k + b]! += va * f.data[t * k + b]!
    }
  }
  if (i % 200 === 0) process.stderr.write(`fit: ${i}/${train.length}\n`)
}

const meanSd = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length
  return { mean: m, sd: Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length) }
}
/** least squares y = intercept + slope * cycle, and the residuals' sd */
function line(y: number[]) {
  const x = cycles.map((c) => c.cycle)
  const mx = meanSd(x).mean
  const my = meanSd(y).mean
  const slope = x.reduce((a, xi, i) => a + (xi - mx) * (y[i]! - my), 0) / x.reduce((a, xi) => a + (xi - mx) ** 2, 0)
  const intercept = my - slope * mx
  return { intercept, slope, sd: meanSd(y.map((yi, i) => yi - intercept - slope * x[i]!)).sd }
}
const round = (v: number) => Number(v.toPrecision(6))
const model = {
  description:
    'Heart-cycle segmentation parameters, fitted by scripts/fit-segmentation.ts on CirCor folds 0-3 (fold 4 held out). durations in seconds; systole and diastole = intercept + slope * cycle length; emissions: per state (S1, systole, S2, diastole) Gaussian over the standardised features of heart-rate.ts.',
  recordings: train.length,
  cycles: cycles.length,
  durations: {
    S1: meanSd(s1),
    systole: line(cycles.map((c) => c.systole)),
    S2: meanSd(s2),
    diastole: line(cycles.map((c) => c.diastole)),
  },
  emissions: sums.map(({ n, s, ss }) => {
    const mean = Array.from(s, (v) => v / n)
    const covariance = Array.from({ length: k }, (_, a) =>
      Array.from({ length: k }, (_, b) => round(ss[a * k + b]! / n - mean[a]! * mean[b]!)),
    )
    return { frames: n, mean: mean.map(round), covariance }
  }),
}
const json = JSON.parse(JSON.stringify(model, (_, v) => (typeof v === 'number' ? round(v) : v)))
writeFileSync('src/core/analysis/segmentation-model.json', JSON.stringify(json, null, 1) + '\n')
console.log(JSON.stringify(json.durations))
