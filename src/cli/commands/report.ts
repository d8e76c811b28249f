import type { Command } from 'commander'
import { artefactProducers } from '../../core/backend/artefacts'
import { InputError } from '../../core/errors'
import { defaultModelPath, loadModelCard } from '../../core/model/card'
import { cliRepository, STORE_OPTION, writeUserFile } from '../back-end'
import { runCommand } from '../run'

const PAPERS = ['a4', 'letter'] as const

export function registerReport(program: Command): void {
  program
    .command('report')
    .description("write an examination's report as a PDF (the back end's artefact, as the app saves it)")
    .argument('<id>', 'session id')
    .requiredOption('--out <file>', 'the PDF to write')
    .option('--paper <size>', `${PAPERS.join(' or ')}`, 'a4')
    .option(...STORE_OPTION)
    .option('--model <path>', 'the model whose front end draws the spectrograms (default: the shipped one)')
    .action((id: string, options: { out: string; paper: string; sessions?: string; model?: string }) =>
      runCommand(async () => {
        const paper = PAPERS.find((p) => p === options.paper.toLowerCase())
        if (!paper) throw new InputError('--paper', `must be ${PAPERS.join(' or ')}, not "${options.paper}"`)
        // the verdicts are the record's: a report needs the card's front end to draw, never the model to run
        const card = loadModelCard(options.model ?? defaultModelPath())
        const pdf = await artefactProducers(cliRepository(options.sessions), card).pdf({ session: id, paper })
        await writeUserFile(options.out, pdf.bytes) // patient data: the user's only
        process.stderr.write(`phonoscope: ${options.out}: report of examination ${id}\n`)
      }),
    )
}
