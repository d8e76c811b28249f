import { describe, expect, it } from 'vitest'
import { aggregateRecordings, argmax } from '../../src/core/analysis/aggregate'
import { applyTemperature, calibrate, uncalibrateRecording } from '../../src/core/analysis/calibration'
import { metricsOf, type RowResult } from '../../src/core/analysis/evaluate'
import type { Aggregation, Calibration, PatientRule, SiteFusion } from '../../src/core/api/model-card'
import { loadModelCard } from '../../src/core/model/card'
import { runPython, SHIPPED_MODEL, shippedModelAvailable } from './model-fixture'

const calibration = (recording: number, patient: number, rule: Aggregation): Calibration => ({
  method: 'temperature',
  recording: { temperature: recording },
  patient: { temperature: patient, rule },
})

describe('temperature scaling (hand-computed)', () => {
  it('p^(1/T) renormalised: T = 2 takes square roots, T = 0.5 squares; T = 1 changes nothing', () => {
    const p = [0.64, 0.32, 0.04]
    const roots = [0.8, Math.sqrt(0.32), 0.2]
    const sum = roots.reduce((a, b) => a + b, 0)
    applyTemperature(p, 2).forEach((v, k) => expect(v).toBeCloseTo(roots[k]! / sum, 14))
    const squares = p.map((v) => v * v)
    const total = squares.reduce((a, b) => a + b, 0)
    applyTemperature(p, 0.5).forEach((v, k) => expect(v).toBeCloseTo(squares[k]! / total, 14))
    applyTemperature(p, 1).forEach((v, k) => expect(v).toBeCloseTo(p[k]!, 14))
    expect(applyTemperature([1e-300, 1 - 1e-300, 0], 0.05)).toEqual([0, 1, 0]) // no underflow to 0/0
  })
  it('a card without calibration leaves probabilities exactly as they are', () => {
    expect(calibrate([0.5, 0.3, 0.2], {}, 'recording')).toEqual([0.5, 0.3, 0.2])
    expect(uncalibrateRecording([0.5, 0.3, 0.2], {})).toEqual([0.5, 0.3, 0.2])
  })
  it('uncalibrating undoes the recording temperature', () => {
    const card = { calibration: calibration(1.7, 1, 'mean') }
    const p = [0.05, 0.9, 0.05]
    const shown = calibrate(p, card, 'recording')
    expect(shown[1]).toBeLessThan(0.9) // T > 1 sounds less sure
    uncalibrateRecording(shown, card).forEach((v, k) => expect(v).toBeCloseTo(p[k]!, 14))
  })
})

describe('the same numbers as the Python reference (calibration.py, aggregation.py)', () => {
  it('recording and patient probabilities for random sites, every rule, T above and below 1', () => {
    const code = [
      'import json, numpy as np',
      'from phonoscope_training.aggregation import FUSION_FEATURES, LOG_EPS, aggregate',
      'from phonoscope_training.calibration import calibrated',
      'rng = np.random.default_rng(5)',
      'fusion = {"features": FUSION_FEATURES, "log_eps": LOG_EPS, "weights": rng.normal(0, 2, (3, 9)).tolist(),',
      '          "bias": rng.normal(0, 1, 3).tolist()}',
      'cases = [rng.dirichlet([0.4, 0.4, 0.4], size=n) for n in (1, 2, 4, 5)]',
      'out = {"fusion": fusion, "cases": [c.tolist() for c in cases], "want": []}',
      'for rule in ("mean", "max_murmur", "fusion"):',
      '    for t_rec, t_pat in ((1.6, 0.7), (0.6, 2.5)):',
      '        card = {"calibration": {"recording": {"temperature": t_rec}, "patient": {"temperature": t_pat}}}',
      '        out["want"].append({"rule": rule, "t": [t_rec, t_pat],',
      '            "recording": [calibrated(c, card, "recording").tolist() for c in cases],',
      '            "patient": [calibrated(aggregate(c, rule, fusion), card, "patient")[0].tolist() for c in cases]})',
      'print(json.dumps(out))',
    ].join('\n')
    const py = JSON.parse(runPython(code)) as {
      fusion: SiteFusion
      cases: number[][][]
      want: { rule: Aggregation; t: [number, number]; recording: number[][][]; patient: number[][] }[]
    }
    for (const want of py.want) {
      const rule: PatientRule = {
        aggregation: want.rule,
        fusion: py.fusion,
        calibration: calibration(want.t[0], want.t[1], want.rule),
      }
      py.cases.forEach((rows, i) => {
        // the app's recordings carry calibrated probabilities; the patient rule must still see the model's
        const shown = rows.map((p) => calibrate(p, rule, 'recording'))
        shown.forEach((p, r) => p.forEach((v, k) => expect(v).toBeCloseTo(want.recording[i]![r]![k]!, 12)))
        const got = aggregateRecordings(shown, rule).probabilities
        got.forEach((v, k) => expect(v, `${want.rule} case ${i}`).toBeCloseTo(want.patient[i]![k]!, 12))
      })
    }
  })
})

describe('calibration keeps every verdict', () => {
  it('the argmax at both levels, hence the confusion matrices and UAR, equal those without calibration', () => {
    let seed = 7
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) ** 3 // skewed: confident rows too
    const labels = ['normal', 'mild', 'moderate_severe'] as const
    const rows: RowResult[] = Array.from({ length: 90 }, (_, i) => {
      const raw = [random(), random(), random()]
      const sum = raw.reduce((a, b) => a + b, 0)
      const [normal, mild, moderate_severe] = raw.map((v) => v / sum) as [number, number, number]
      const label = labels[i % 3]!
      return {
        line: i + 2,
        file: `${i}.wav`,
        patient_id: `p${Math.floor(i / 4)}`,
        label,
        frames: 100,
        duration_s: 3,
        windows: 1,
        probabilities: { normal, mild, moderate_severe },
      }
    })
    for (const aggregation of ['mean', 'max_murmur'] as const) {
      const rule = { aggregation, calibration: calibration(2.5, 0.4, aggregation) }
      const shown = rows.map((r) => {
        const [normal, mild, moderate_severe] = calibrate(Object.values(r.probabilities), rule, 'recording')
        return { ...r, probabilities: { normal: normal!, mild: mild!, moderate_severe: moderate_severe! } }
      })
      const plain = metricsOf(rows, { aggregation })
      const calibrated = metricsOf(shown, rule)
      for (const level of ['recording', 'patient'] as const) {
        expect(calibrated[level].confusion, `${aggregation} ${level}`).toEqual(plain[level].confusion)
        expect(calibrated[level].uar).toBe(plain[level].uar)
      }
      calibrated.patients.forEach((p, i) => {
        const before = Object.values(plain.patients[i]!.probabilities)
        const after = Object.values(p.probabilities)
        expect(argmax(after)).toBe(argmax(before))
        expect(Math.max(...after)).toBeGreaterThan(Math.max(...before) - 1e-12) // T = 0.4 < 1: surer
      })
    }
  })
})

describe('the shipped cards', () => {
  it.skipIf(!shippedModelAvailable())('carry temperatures for both levels, for their own patient rule', () => {
    for (const path of [SHIPPED_MODEL, SHIPPED_MODEL.replace(/\.onnx$/, '-int8.onnx')]) {
      const card = loadModelCard(path)
      expect(card.calibration?.patient.rule).toBe(card.aggregation)
      for (const level of ['recording', 'patient'] as const) {
        expect(card.calibration![level].temperature).toBeGreaterThan(0.2)
        expect(card.calibration![level].temperature).toBeLessThan(5)
      }
    }
  })
})
