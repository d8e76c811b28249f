import type { Command } from 'commander'
import { writeFile } from 'node:fs/promises'
import { exportBundle } from '../../core/backend/bundle'
import { cliRepository } from '../back-end'
import { runCommand } from '../run'
import { STORE_OPTION } from './sessions'

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write an examination as one bundle file (audio + record + patient) that `import` reads back')
    .argument('<id>', 'session id')
    .requiredOption('--out <file>', 'the bundle to write, e.g. exam.phono')
    .option('--deidentify', 'no name or birth year, a pseudonymous patient id, shifted date, no free text')
    .option(...STORE_OPTION)
    .action((id: string, options: { out: string; deidentify?: boolean; sessions?: string }) =>
      runCommand(async () => {
        const bundle = await exportBundle(cliRepository(options.sessions), id, { deidentify: options.deidentify })
        await writeFile(options.out, bundle.bytes, { mode: 0o600 }) // patient data: the user's only
        process.stderr.write(`phonoscope: ${options.out}: examination ${id} (${bundle.bytes.length} bytes)\n`)
      }),
    )
}
