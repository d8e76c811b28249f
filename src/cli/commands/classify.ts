import type { Command } from 'commander'
import { writeFileSync } from 'node:fs'
import { basename, extname } from 'node:path'
import type { ModelInfo } from '../../core/api/inference'
import { onMelBins } from '../../core/analysis/attention'
import {
  classifyFeatures,
  modelSummary,
  sessionVerdict,
  windowsAttention,
  type RecordingResult,
} from '../../core/analysis/classify'
import { toArray, verdictOf, type Probabilities } from '../../core/analysis/aggregate'
import { attentionPng } from '../../core/analysis/png'
import { withheldText, type Quality } from '../../core/analysis/quality'
import type { HeartRate } from '../../core/analysis/segmentation'
import { recordingFeatures, type RecordingFeatures } from '../../core/analysis/recording'
import { CLASSES, type ClassName } from '../../core/api/classes'
import { descriptorLines } from '../../core/api/wording'
import { InputError, isInputError } from '../../core/errors'
import { startInference, type InferenceCliOptions, inferenceOptions } from '../inference'
import { positiveInt } from '../options'
import { EXIT, runCommand } from '../run'

const round = (v: number, digits = 6) => Number(v.toFixed(digits))

/** heart_rate_bpm (null when none), its variability, and the quality gate's {score, ok, reasons} */
const heartAndQuality = (heart: HeartRate | null, quality: Quality) => ({
  heart_rate_bpm: heart && round(heart.bpm, 1),
  heart_rate_variability_ms: heart && round(heart.variability_ms, 1),
  quality,
})

/** The --json shape of one recording. */
export function recordingJson(result: RecordingResult, info: ModelInfo) {
  return {
    file: result.file,
    duration_s: round(result.duration_s, 3),
    frames: result.frames,
    windows: result.windows.map((w) => ({
      index: w.index,
      start_s: round(w.start_s, 3),
      end_s: round(w.end_s, 3),
      start_frame: w.start_frame,
      end_frame: w.end_frame,
      kind: w.kind,
      padded: w.padded,
      input_frames: w.input_frames,
      probabilities: w.probabilities,
      verdict: w.verdict,
      ...heartAndQuality(w.heart_rate, w.quality),
      attention: {
        shape: [w.attention.classes, w.attention.time, w.attention.freq],
        data: Array.from({ length: w.attention.classes }, (_, c) =>
          Array.from({ length: w.attention.time }, (_, t) =>
            Array.from(
              w.attention.data.subarray(
                (c * w.attention.time + t) * w.attention.freq,
                (c * w.attention.time + t + 1) * w.attention.freq,
              ),
              (v) => round(v, 7),
            ),
          ),
        ),
      },
    })),
    probabilities: result.probabilities,
    verdict: result.verdict,
    verdict_windows: result.verdict_windows,
    attention_phase:
      result.attention_phase &&
      Object.fromEntries(Object.entries(result.attention_phase).map(([k, v]) => [k, round(v, 4)])),
    murmur_timing: result.murmur_timing,
    ...(result.descriptors ? { descriptors: result.descriptors } : {}),
    ...heartAndQuality(result.heart_rate, result.quality),
    final: result.final,
    s1_onsets_s: result.segmentation?.s1_onsets.map((t) => round(t, 2)) ?? [],
    s2_onsets_s: result.segmentation?.s2_onsets.map((t) => round(t, 2)) ?? [],
    model: modelSummary(info),
    provider: info.provider,
  }
}

function attentionTarget(out: string, file: string, several: boolean): string {
  if (!several) return out
  const ext = extname(out)
  return `${out.slice(0, out.length - ext.length)}-${basename(file, extname(file))}${ext}`
}

function writeAttention(out: string, features: RecordingFeatures, result: RecordingResult): void {
  const ext = extname(out).toLowerCase()
  if (ext !== '.png' && ext !== '.json') throw new InputError('--attention', 'the output must end in .png or .json')
  // a withheld recording's map is drawn for its most probable class: the attention is still what the model saw
  const cls = result.verdict ?? verdictOf(toArray(result.probabilities))
  const grid = (c: ClassName) => onMelBins(windowsAttention(result.windows, c, features.frames)!, features.nMels)
  if (ext === '.png') {
    writeFileSync(out, attentionPng(features.data, grid(cls), features.frames, features.nMels))
  } else {
    const rows = (data: Float32Array) =>
      Array.from({ length: features.frames }, (_, f) =>
        Array.from(data.subarray(f * features.nMels, (f + 1) * features.nMels), (v) => round(v, 7)),
      )
    const json = {
      file: result.file,
      verdict: result.verdict,
      frames: features.frames,
      n_mels: features.nMels,
      description:
        "grid[class][frame][mel]: each window's attention map on the spectrogram grid (nearest cell), scaled by its time cells (1 = spread evenly over the window) and averaged over the windows covering each frame",
      classes: CLASSES,
      grid: Object.fromEntries(CLASSES.map((c) => [c, rows(grid(c))])),
    }
    writeFileSync(out, JSON.stringify(json))
  }
  process.stderr.write(`${out}: attention of "${result.verdict}" over ${features.frames} x ${features.nMels}\n`)
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`.padStart(7)

function printTable(result: RecordingResult): void {
  console.log(`${result.file}  ${result.duration_s.toFixed(2)} s, ${result.windows.length} window(s)`)
  console.log(
    `  ${'window'.padEnd(22)} ${'normal'.padStart(7)} ${'mild'.padStart(7)} ${'mod/sev'.padStart(7)}  verdict`,
  )
  for (const w of result.windows) {
    const span = `${w.start_s.toFixed(1)}-${w.end_s.toFixed(1)} s ${w.kind}`
    console.log(`  ${span.padEnd(22)} ${shown(w)}`)
  }
  console.log(`  ${'recording'.padEnd(22)} ${shown(result)}`)
  const heart = result.heart_rate
  const rate = heart ? `${heart.bpm.toFixed(0)} bpm (variability ${heart.variability_ms.toFixed(0)} ms)` : 'none'
  console.log(`  heart rate ${rate}, quality ${result.quality.score.toFixed(2)}`)
  if (result.verdict !== null) console.log(`  verdict from window(s) ${result.verdict_windows.join(', ')}`)
  const phase = result.attention_phase
  if (phase) {
    const share = (v: number) => `${(100 * v).toFixed(1)}%`
    const timing = result.murmur_timing ? `: ${result.murmur_timing}` : ''
    console.log(
      `  attention by phase: S1 ${share(phase.s1)}, systole ${share(phase.systole)}, S2 ${share(phase.s2)}, diastole ${share(phase.diastole)}${timing}`,
    )
  }
  if (result.descriptors)
    console.log(
      `  ${descriptorLines(result.descriptors)
        .map((line) => line.text)
        .join('; ')}`,
    )
  if (!result.final) console.log(`  provisional: shorter than the model's window, the verdict rests on less sound`)
}

/** Probabilities and verdict, or only "withheld: insufficient quality: <reasons>, re-record": no number to lean on. */
function shown(r: { verdict: string | null; quality: Quality; probabilities: Probabilities }): string {
  const p = r.probabilities
  if (r.verdict !== null) return `${pct(p.normal)} ${pct(p.mild)} ${pct(p.moderate_severe)}  ${r.verdict}`
  return `${'-'.padStart(7)} ${'-'.padStart(7)} ${'-'.padStart(7)}  withheld: ${withheldText(r.quality)}`
}

export function registerClassify(program: Command): void {
  inferenceOptions(
    program
      .command('classify')
      .description(
        'grade murmurs in recordings: windows, probabilities, verdicts and attention (decision support only)',
      )
      .argument('<audio...>', 'WAV or FLAC files (several: also a session verdict over them)')
      .option('--json', 'print JSON: one object per file (an array when several files)')
      .option('--attention <out>', 'write the attention map: OUT.png (spectrogram + attention) or OUT.json (grid)')
      .option('--hop-frames <n>', "hop between windows in frames (default: the model card's)")
      .option('--session', 'with --json: print {recordings, session} including the session verdict'),
  ).action(
    (
      files: string[],
      options: InferenceCliOptions & { json?: boolean; attention?: string; hopFrames?: string; session?: boolean },
    ) =>
      runCommand(async () => {
        const hop = positiveInt(options.hopFrames, '--hop-frames')
        if (options.attention && !/\.(png|json)$/i.test(options.attention)) {
          throw new InputError('--attention', 'the output must end in .png or .json')
        }
        const { client, info } = await startInference(options)
        const results: RecordingResult[] = []
        let badInput = false
        let internalError = false
        try {
          for (const file of files) {
            try {
              const features = await recordingFeatures(file, info.card.frontend)
              const result = await classifyFeatures(features, info.card, client, hop)
              results.push(result)
              if (options.attention)
                writeAttention(attentionTarget(options.attention, file, files.length > 1), features, result)
              if (!options.json) printTable(result)
            } catch (error) {
              if (files.length === 1) throw error
              // one file's problem, even an internal error, is reported and the others are still classified
              if (isInputError(error)) badInput = true
              else internalError = true
              const message = error instanceof Error ? error.message.split('\n', 1)[0] : String(error)
              const what = isInputError(error) ? '' : `internal error: ${file}: `
              process.stderr.write(`phonoscope: ${what}${message}\n`)
            }
          }
        } finally {
          await client.close()
        }
        const session = results.length > 1 ? sessionVerdict(results, info.card) : undefined
        if (options.json) {
          const objects = results.map((r) => recordingJson(r, info))
          const out = options.session
            ? { recordings: objects, session }
            : objects.length === 1 && files.length === 1
              ? objects[0]
              : objects
          console.log(JSON.stringify(out))
        } else {
          if (session) {
            const p = session.probabilities
            const by = session.decided_by ? ` (decided by ${basename(session.decided_by)})` : ''
            const skipped = session.withheld ? `, ${session.withheld} withheld` : ''
            const head = `session (${session.recordings} recordings${skipped}, ${session.rule})`
            console.log(
              p
                ? `${head}  ${pct(p.normal)} ${pct(p.mild)} ${pct(p.moderate_severe)}  ${session.verdict}${by}`
                : `${head}  withheld: no recording passed the quality gate, re-record`,
            )
          }
          console.log(
            `model ${info.name} ${info.version}, provider ${info.provider}. Decision support, not a diagnosis.`,
          )
        }
        if (internalError) process.exitCode = EXIT.internal
        else if (badInput) process.exitCode = EXIT.badInput
      }),
  )
}
