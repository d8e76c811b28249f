import { describe, expect, it } from 'vitest'
import {
  aggregateRecordings,
  argmax,
  fusionFeatures,
  meanProbabilities,
  verdictOf,
} from '../../src/core/analysis/aggregate'
import { FUSION_FEATURES, type SiteFusion } from '../../src/core/api/model-card'
import { sessionVerdict, type RecordingResult } from '../../src/core/analysis/classify'
import { metricsOf, type RowResult } from '../../src/core/analysis/evaluate'
import {
  averageRanks,
  binaryAuc,
  confusion,
  nanMean,
  precisions,
  quantile,
  recalls,
  summarize,
} from '../../src/core/analysis/metrics'
import { runPython } from './model-fixture'

describe('aggregation rules (hand-computed)', () => {
  const a = [0.7, 0.2, 0.1]
  const b = [0.3, 0.5, 0.2]
  const c = [0.2, 0.2, 0.6]
  it('mean: the mean of the recordings', () => {
    const { probabilities } = aggregateRecordings([a, b, c], { aggregation: 'mean' })
    expect(probabilities[0]).toBeCloseTo(0.4, 12)
    expect(probabilities[1]).toBeCloseTo(0.3, 12)
    expect(probabilities[2]).toBeCloseTo(0.3, 12)
    expect(verdictOf(probabilities)).toBe('normal')
  })
  it('max_murmur: the recording with the lowest p(normal), the first on ties', () => {
    expect(aggregateRecordings([a, b, c], { aggregation: 'max_murmur' })).toEqual({ probabilities: c, chosen: 2 })
    expect(aggregateRecordings([b, [0.3, 0.1, 0.6]], { aggregation: 'max_murmur' }).chosen).toBe(0)
    expect(verdictOf(aggregateRecordings([a, b, c], { aggregation: 'max_murmur' }).probabilities)).toBe(
      'moderate_severe',
    )
  })
  it('fusion: softmax of the weights over mean p, mean log p and the most murmur-like p, plus the bias', () => {
    const zeros = () => [0, 0, 0, 0, 0, 0, 0, 0, 0]
    const weights = [zeros(), zeros(), zeros()]
    weights[1]![1] = 10 // mean_p_mild: 0.3 -> 3
    weights[2]![8] = 5 // max_murmur_p_moderate_severe: c's 0.6 -> 3
    const fusion = { features: FUSION_FEATURES, log_eps: 1e-6, weights, bias: [0, 0, -1] }
    const { probabilities } = aggregateRecordings([a, b, c], { aggregation: 'fusion', fusion })
    const z = [0, 3, 2]
    const sum = z.reduce((acc, v) => acc + Math.exp(v), 0)
    z.forEach((v, k) => expect(probabilities[k]).toBeCloseTo(Math.exp(v) / sum, 12))
    const logs = fusionFeatures([a, b], 1e-6).slice(3, 6)
    logs.forEach((v, k) => expect(v).toBeCloseTo((Math.log(a[k]! + 1e-6) + Math.log(b[k]! + 1e-6)) / 2, 12))
    expect(() => aggregateRecordings([a], { aggregation: 'fusion' })).toThrow(/fitted weights/)
  })
  it('fusion: the same probabilities as the Python side (aggregation.py) for random weights and sites', () => {
    const code = [
      'import json, numpy as np',
      'from phonoscope_training.aggregation import FUSION_FEATURES, LOG_EPS, aggregate',
      'rng = np.random.default_rng(3)',
      'fusion = {"features": FUSION_FEATURES, "log_eps": LOG_EPS, "weights": rng.normal(0, 2, (3, 9)).tolist(),',
      '          "bias": rng.normal(0, 1, 3).tolist()}',
      'cases = [rng.dirichlet([0.5, 0.5, 0.5], size=n).tolist() for n in (1, 2, 4, 5)]',
      'print(json.dumps({"fusion": fusion, "cases": cases,',
      '                  "want": [aggregate(c, "fusion", fusion).tolist() for c in cases]}))',
    ].join('\n')
    const py = JSON.parse(runPython(code)) as { fusion: SiteFusion; cases: number[][][]; want: number[][] }
    py.cases.forEach((rows, i) => {
      const got = aggregateRecordings(rows, { aggregation: 'fusion', fusion: py.fusion }).probabilities
      got.forEach((v, k) => expect(v).toBeCloseTo(py.want[i]![k]!, 12))
    })
  })
  it('window mean and argmax with numpy tie-breaking', () => {
    expect(meanProbabilities([a, b])).toEqual([0.5, 0.35, 0.15000000000000002])
    expect(argmax([0.4, 0.4, 0.2])).toBe(0)
    expect(verdictOf([0.2, 0.4, 0.4])).toBe('mild')
  })
  it('session verdict names the deciding recording under max_murmur', () => {
    const rec = (file: string, p: number[]) =>
      ({ file, probabilities: { normal: p[0], mild: p[1], moderate_severe: p[2] } }) as unknown as RecordingResult
    const s = sessionVerdict([rec('AV', a), rec('MV', b), rec('TV', c)], { aggregation: 'max_murmur' })
    expect(s).toMatchObject({ verdict: 'moderate_severe', decided_by: 'TV', recordings: 3 })
    expect(sessionVerdict([rec('AV', a), rec('MV', b)], { aggregation: 'mean' }).verdict).toBe('normal')
  })
})

describe('metrics (as training/phonoscope_training/metrics.py)', () => {
  it('confusion, recall, precision, UAR with an absent class', () => {
    const cm = confusion([0, 0, 0, 1, 1], [0, 1, 0, 1, 0], 3)
    expect(cm).toEqual([
      [2, 1, 0],
      [1, 1, 0],
      [0, 0, 0],
    ])
    expect(recalls(cm)).toEqual([2 / 3, 0.5, NaN])
    expect(precisions(cm)).toEqual([2 / 3, 0.5, NaN])
    expect(nanMean(recalls(cm))).toBeCloseTo(7 / 12, 12)
  })
  it('quantiles take the nearest rank below, unsorted input, NaN when empty', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6]
    expect(quantile(values, 0.5)).toBe(6)
    expect(quantile(values, 0.95)).toBe(10)
    expect(quantile(values, 0)).toBe(1)
    expect(quantile(values, 1)).toBe(10)
    expect(values[0]).toBe(5) // the input is left as it was
    expect(quantile([], 0.5)).toBeNaN()
  })
  it('AUC counts ties as one half', () => {
    expect(averageRanks([3, 1, 3, 2])).toEqual([3.5, 1, 3.5, 2])
    expect(binaryAuc([true, false, true, false], [0.9, 0.1, 0.5, 0.5])).toBe(0.875)
    expect(binaryAuc([true, true], [0.1, 0.2])).toBeNaN()
  })
  it('summarize uses argmax predictions', () => {
    const s = summarize(
      [0, 1, 2],
      [
        [0.5, 0.3, 0.2],
        [0.1, 0.8, 0.1],
        [0.6, 0.2, 0.2],
      ],
      3,
    )
    expect(s.uar).toBeCloseTo(2 / 3, 12)
    expect(s.confusion[2]).toEqual([1, 0, 0])
  })
  it("patient level aggregates a patient's recordings by the rule", () => {
    const row = (line: number, patient: string, label: RowResult['label'], p: number[]): RowResult => ({
      line,
      file: `${line}.wav`,
      patient_id: patient,
      label,
      frames: 100,
      duration_s: 3,
      windows: 1,
      probabilities: { normal: p[0]!, mild: p[1]!, moderate_severe: p[2]! },
    })
    const rows = [
      row(2, 'p1', 'mild', [0.7, 0.2, 0.1]),
      row(3, 'p1', 'mild', [0.4, 0.5, 0.1]),
      row(4, 'p2', 'normal', [0.6, 0.3, 0.1]),
    ]
    const maxMurmur = metricsOf(rows, { aggregation: 'max_murmur' })
    expect(maxMurmur.recording.confusion).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [0, 0, 0],
    ])
    expect(maxMurmur.patient.uar).toBe(1)
    const mean = metricsOf(rows, { aggregation: 'mean' }) // p1 mean = [0.55, 0.35, 0.1] -> normal
    expect(mean.patient.uar).toBe(0.5)
    expect(mean.patients[0]!.probabilities.normal).toBeCloseTo(0.55, 12)
  })
})
