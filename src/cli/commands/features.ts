import type { Command } from 'commander'
import { streamFeatures } from '../../core/dsp/features'
import { DEFAULT_FRONTEND } from '../../core/dsp/params'
import { openMatrixWriter } from '../matrix-file'
import { runCommand } from '../run'

export function registerFeatures(program: Command): void {
  program
    .command('features')
    .description('write the log-Mel matrix (frames x 64, float32) of a recording, decoded and resampled to 4 kHz')
    .argument('<audio>', 'a WAV or FLAC file')
    .requiredOption('--out <file>', 'output file: .json or .npy')
    .action((audio: string, options: { out: string }) =>
      runCommand(async () => {
        const { info, blocks } = await streamFeatures(audio, DEFAULT_FRONTEND)
        const meta = { source: audio, source_sample_rate: info.sampleRate, frontend: DEFAULT_FRONTEND }
        const writer = await openMatrixWriter(options.out, DEFAULT_FRONTEND.n_mels, meta)
        for await (const block of blocks) await writer.write(block)
        const frames = await writer.close()
        const note = frames === 0 ? ' (shorter than one FFT frame: no frames)' : ''
        process.stderr.write(`${options.out}: ${frames} x ${DEFAULT_FRONTEND.n_mels} log-Mel frames${note}\n`)
      }),
    )
}
