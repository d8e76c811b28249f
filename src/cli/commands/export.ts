import type { Command } from 'commander'
import { extname } from 'node:path'
import { BUNDLE_EXTENSION, exportBundle } from '../../core/backend/bundle'
import { InputError } from '../../core/errors'
import { cliRepository, STORE_OPTION, writeUserFile } from '../back-end'
import { runCommand } from '../run'

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write an examination as one bundle file (audio + record + patient) that `import` reads back')
    .argument('<id>', 'session id')
    .requiredOption('--out <file>', `the bundle to write, e.g. exam${BUNDLE_EXTENSION}`)
    .option('--deidentify', 'no name or birth year, a pseudonymous patient id, shifted date, no free text')
    .option(...STORE_OPTION)
    .action((id: string, options: { out: string; deidentify?: boolean; sessions?: string }) =>
      runCommand(async () => {
        // import knows a bundle by its extension
        if (extname(options.out).toLowerCase() !== BUNDLE_EXTENSION) {
          throw new InputError('--out', `must end in ${BUNDLE_EXTENSION}, not "${options.out}"`)
        }
        const bundle = await exportBundle(cliRepository(options.sessions), id, { deidentify: options.deidentify })
        // patient data: the user's only
        await writeUserFile(options.out, bundle.bytes)
        process.stderr.write(`phonoscope: ${options.out}: examination ${id} (${bundle.bytes.length} bytes)\n`)
      }),
    )
}
