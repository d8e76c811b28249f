import type { Command } from 'commander'
import { writeFile } from 'node:fs/promises'
import { InputError } from '../../core/errors'
import { startCliBackEnd, type SessionCliOptions } from '../back-end'
import { runCommand } from '../run'

const PAPERS = ['a4', 'letter'] as const

export function registerReport(program: Command): void {
  program
    .command('report')
    .description("write an examination's report as a PDF (the back end's artefact, as the app saves it)")
    .argument('<id>', 'session id')
    .requiredOption('--out <file>', 'the PDF to write')
    .option('--paper <size>', `${PAPERS.join(' or ')}`, 'a4')
    .option('--sessions <dir>', 'where sessions are stored (default ~/.phonoscope/sessions)')
    .option('--model <path>', 'ONNX model (default: the shipped one)')
    .option('--provider <name>', 'execution provider: auto, cpu, cuda, dml, coreml, webgpu', 'auto')
    .action((id: string, options: SessionCliOptions & { out: string; paper: string }) =>
      runCommand(async () => {
        const paper = PAPERS.find((p) => p === options.paper.toLowerCase())
        if (!paper) throw new InputError('--paper', `must be ${PAPERS.join(' or ')}`)
        const backEnd = await startCliBackEnd(options)
        try {
          const pdf = await backEnd.api.artefact({ kind: 'pdf', session: id, paper })
          await writeFile(options.out, pdf.bytes, { mode: 0o600 }) // patient data: the user's only
          process.stderr.write(`phonoscope: ${options.out}: report of examination ${id}\n`)
        } finally {
          await backEnd.close()
        }
      }),
    )
}
