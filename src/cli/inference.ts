import type { Command } from 'commander'
import { PROVIDERS, type LoadOptions, type ModelInfo } from '../core/api/inference'
import { PRECISIONS, type PrecisionRequest } from '../core/api/model-card'
import { defaultModelPath } from '../core/model/card'
import { InferenceClient } from '../core/model/client'
import { parseProvider } from '../core/model/providers'
import { InputError } from '../core/errors'
import { positiveInt } from './options'

/** The options every command that runs the model takes (--model, --provider, --precision, --threads). */
export interface InferenceCliOptions {
  model?: string
  provider?: string
  precision?: string
  threads?: string
  /** onnxruntime thread busy-waiting (see LoadOptions.spinning) */
  spinning?: boolean
}

/** Adds --model, --provider, --precision and --threads to a command that runs the model. */
export function inferenceOptions(command: Command): Command {
  return command
    .option('--model <path>', 'ONNX model with its card beside it (default: models/phonoscope-cnn-att.onnx)')
    .option('--provider <name>', `execution provider: auto, ${PROVIDERS.join(', ')} (falls back to cpu)`, 'auto')
    .option(
      '--precision <p>',
      `auto (the model's int8 twin on cpu where its cross-validation allows, else fp32), ${PRECISIONS.join(', ')}`,
      'auto',
    )
    .option('--threads <n>', 'onnxruntime intra-op threads (default: 2 or the number of cores if fewer)')
}

function parsePrecision(value: string | undefined): PrecisionRequest {
  if (value === undefined || value === 'auto') return 'auto'
  if ((PRECISIONS as readonly string[]).includes(value)) return value as PrecisionRequest
  throw new InputError('--precision', `unknown precision "${value}" (want auto, ${PRECISIONS.join(', ')})`)
}

/** The command line's inference options as the host's load options. */
export function loadOptions(options: InferenceCliOptions): LoadOptions {
  return {
    modelPath: options.model ?? defaultModelPath(),
    provider: parseProvider(options.provider),
    precision: parsePrecision(options.precision),
    threads: positiveInt(options.threads, '--threads'),
    spinning: options.spinning,
  }
}

/** The line that says which model, precision and provider run (stderr), once the host has loaded it. */
export function logModel(info: ModelInfo): void {
  process.stderr.write(
    `phonoscope: model ${info.name} ${info.version} (${info.sha256.slice(0, 12)}), ${info.precisionNote}, provider ${info.providerNote}, ${info.threads} thread(s)\n`,
  )
}

/** Starts the inference host with the model and provider options, and logs which provider runs. */
export async function startInference(
  options: InferenceCliOptions,
): Promise<{ client: InferenceClient; info: ModelInfo }> {
  const client = new InferenceClient(loadOptions(options))
  try {
    const info = await client.start()
    logModel(info)
    return { client, info }
  } catch (error) {
    await client.close()
    throw error
  }
}
