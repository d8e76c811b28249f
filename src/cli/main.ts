import { Command } from 'commander'
import pkg from '../../package.json'
import { registerBench } from './commands/bench'
import { registerClassify } from './commands/classify'
import { registerEvaluate } from './commands/evaluate'
import { registerEvaluateSegmentation } from './commands/evaluate-segmentation'
import { registerExport } from './commands/export'
import { registerFeatures } from './commands/features'
import { registerImport } from './commands/import'
import { registerRecord } from './commands/record'
import { registerReport } from './commands/report'
import { registerServe } from './commands/serve'
import { registerSessions } from './commands/sessions'

const program = new Command()
  .name('phonoscope')
  .description(
    'Phonoscope: heart-sound spectrograms and explainable murmur grading (decision support, not a diagnosis).',
  )
  .version(pkg.version)
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    '\nExit codes: 0 ok, 1 internal error, 2 bad input (the message names the file and the problem).',
  )
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))

registerFeatures(program)
registerClassify(program)
registerEvaluate(program)
registerEvaluateSegmentation(program)
registerBench(program)
registerServe(program)
registerRecord(program)
registerImport(program)
registerExport(program)
registerReport(program)
registerSessions(program)

await program.parseAsync()
