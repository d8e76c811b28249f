/**
 * How often the attention's heart phase agrees with CirCor's annotated murmur timing: over the recordings of a
 * murmur-present patient where the murmur is audible at that location (murmur_audible_at_location = yes) and
 * annotated as only systolic or only diastolic (systolic_murmur_timing / diastolic_murmur_timing), each recording is
 * classified as `classify` does; its murmur_timing word (a murmur verdict whose attention one phase dominates) is
 * compared with the annotation, beside the chance rate (a word drawn independently with the same shares) and the
 * majority rate (always the commoner timing). A second line does the same for the attention of the more probable
 * murmur class whatever the verdict, to see the attention itself apart from the model's grade, and a third forces the
 * word (the phase with more attention per second, however slight the difference).
 * Run: npx tsx scripts/evaluate-attention-phase.ts [--manifest CSV] [--root DIR] [--model ONNX] [--json]
 */
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { murmurTiming } from '../src/core/analysis/attention-phase'
import { attentionPhases, classifyFeatures } from '../src/core/analysis/classify'
import { readCsvTable } from '../src/core/analysis/manifest'
import { recordingFeatures } from '../src/core/analysis/recording'
import { startInference } from '../src/cli/inference'

type Timing = 'systolic' | 'diastolic'
const { values } = parseArgs({
  options: {
    manifest: { type: 'string', default: '../shared/data/circor/manifest.csv' },
    root: { type: 'string' },
    model: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
})
const manifest = values.manifest!
const root = values.root ?? dirname(resolve(manifest))
const { records, column: col } = readCsvTable(manifest)
const cases = records.flatMap((r) => {
  if (r[col('murmur')] !== 'Present' || r[col('murmur_audible_at_location')] !== 'yes') return []
  const systolic = r[col('systolic_murmur_timing')] !== ''
  const diastolic = r[col('diastolic_murmur_timing')] !== ''
  if (systolic === diastolic) return [] // both (or neither) annotated: no single timing to agree with
  return [{ path: resolve(root, r[col('path')]!), timing: (systolic ? 'systolic' : 'diastolic') as Timing }]
})

interface Tally {
  n: number
  worded: { said: Timing; truth: Timing }[]
}
const verdicts: Tally = { n: 0, worded: [] }
const attention: Tally = { n: 0, worded: [] }
const forced: Tally = { n: 0, worded: [] }
const { client, info } = await startInference({ model: values.model })
try {
  for (const [i, c] of cases.entries()) {
    const features = await recordingFeatures(c.path, info.card.frontend)
    const result = await classifyFeatures(features, info.card, client)
    if (result.verdict !== null && result.verdict !== 'normal') {
      verdicts.n++
      if (result.murmur_timing) verdicts.worded.push({ said: result.murmur_timing, truth: c.timing })
    }
    const passed = result.windows.filter((w) => w.verdict !== null)
    if (passed.length && result.segmentation) {
      attention.n++
      const murmur = result.probabilities.mild >= result.probabilities.moderate_severe ? 'mild' : 'moderate_severe'
      const phases = attentionPhases(passed, murmur, features.frames, info.card, result.segmentation)
      const said = phases && murmurTiming(phases)
      if (said) attention.worded.push({ said, truth: c.timing })
      if (phases) {
        forced.n++
        const density = (k: 'systole' | 'diastole') => phases.attention[k] / phases.time[k]
        forced.worded.push({
          said: density('systole') >= density('diastole') ? 'systolic' : 'diastolic',
          truth: c.timing,
        })
      }
    }
    if ((i + 1) % 50 === 0) process.stderr.write(`${i + 1}/${cases.length}\n`)
  }
} finally {
  await client.close()
}

function summary(t: Tally) {
  const n = t.worded.length
  // no word at all: no share (null in the JSON, n/a in the text)
  const share = (f: (w: Tally['worded'][number]) => boolean) => (n ? t.worded.filter(f).length / n : NaN)
  const trueSys = share((w) => w.truth === 'systolic')
  const saidSys = share((w) => w.said === 'systolic')
  const r = (v: number) => (Number.isNaN(v) ? null : Number(v.toFixed(3)))
  return {
    recordings: t.n,
    with_timing_word: n,
    agreement: r(share((w) => w.said === w.truth)),
    chance: r(saidSys * trueSys + (1 - saidSys) * (1 - trueSys)),
    majority: r(Math.max(trueSys, 1 - trueSys)),
    said_systolic: t.worded.filter((w) => w.said === 'systolic').length,
    annotated_diastolic: t.worded.filter((w) => w.truth === 'diastolic').length,
  }
}
const report = {
  cases: cases.length,
  murmur_verdicts: summary(verdicts),
  murmur_attention: summary(attention),
  forced_word: summary(forced),
}
if (values.json) console.log(JSON.stringify(report))
else {
  console.log(`${cases.length} audible murmurs with one annotated timing (${manifest})`)
  for (const [name, s] of Object.entries(report).slice(1) as [string, ReturnType<typeof summary>][])
    console.log(
      `${name}: ${s.with_timing_word} of ${s.recordings} have a timing word; agreement ${s.agreement ?? 'n/a'} vs chance ${s.chance ?? 'n/a'}, majority ${s.majority ?? 'n/a'} (said systolic ${s.said_systolic}, annotated diastolic ${s.annotated_diastolic})`,
    )
}
