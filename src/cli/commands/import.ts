import type { Command } from 'commander'
import { SITES, validateCall, type Site } from '../../core/api/app'
import { importPaths } from '../../core/backend/import'
import { InputError } from '../../core/errors'
import type { InferenceClient } from '../../core/model/client'
import { cliRepository, STORE_OPTION } from '../back-end'
import { startInference, type InferenceCliOptions, inferenceOptions } from '../inference'
import { EXIT, runCommand } from '../run'
import { progress } from './evaluate'

interface ImportOptions extends InferenceCliOptions {
  patient?: string
  site?: string
  json?: boolean
  sessions?: string
}

export function registerImport(program: Command): void {
  inferenceOptions(
    program
      .command('import')
      .description('file recordings (WAV, FLAC, folders of them) and exported bundles (.phono) as examinations')
      .argument(
        '<path...>',
        'files or folders (recursively); CirCor names <patient>_<site>[_n] give patients and sites',
      )
      .option('--patient <id>', 'file everything under this patient id')
      .option('--site <site>', `the site of a file whose name does not say: ${SITES.join(', ')}`, 'Phc')
      .option('--json', 'print {patients, exams, recordings, skipped, failed, seconds, sessions}')
      .option(...STORE_OPTION),
  ).action((paths: string[], options: ImportOptions) => runCommand(() => importCommand(paths, options)))
}

async function importCommand(paths: string[], options: ImportOptions): Promise<void> {
  const site = SITES.find((s) => s.toLowerCase() === options.site?.toLowerCase())
  if (!site) throw new InputError('--site', `must be one of ${SITES.join(', ')}`)
  // a patient id as the contract has it (one that may name a folder of an export)
  validateCall('sessions.list', { patient: options.patient })
  let client: InferenceClient | undefined
  let show: ((done: number) => void) | undefined
  try {
    const summary = await importPaths(paths, {
      repository: cliRepository(options.sessions),
      patient: options.patient,
      site: site as Site,
      // started only for a recording to classify: a bundle carries its verdicts
      model: async () => {
        const started = await startInference(options)
        client = started.client
        const { card, name, sha256, provider } = started.info
        return { inferer: started.client, card, name, sha256, provider }
      },
      onProgress: (done, total) => (show ??= total > 1 ? progress(total, 'import') : () => undefined)(done),
    })
    for (const { path, error } of summary.failed) process.stderr.write(`phonoscope: not imported: ${path}: ${error}\n`)
    if (options.json) console.log(JSON.stringify(summary))
    else {
      const skipped = summary.skipped ? `, ${summary.skipped} already in the store (skipped)` : ''
      const failed = summary.failed.length ? `, ${summary.failed.length} failed` : ''
      console.log(
        `imported ${summary.recordings} recording(s) in ${summary.exams} examination(s) of ${summary.patients} patient(s)${skipped}${failed} in ${summary.seconds.toFixed(1)} s`,
      )
      for (const id of summary.sessions) console.log(`  ${id}`)
    }
    if (summary.recordings === 0) {
      process.exitCode = summary.failed.some((f) => f.error.startsWith('internal error'))
        ? EXIT.internal
        : EXIT.badInput
    }
  } finally {
    await client?.close()
  }
}
