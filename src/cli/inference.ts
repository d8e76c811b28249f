import type { LoadOptions, ModelInfo } from '../core/api/inference'
import { defaultModelPath } from '../core/model/card'
import { InferenceClient } from '../core/model/client'
import { parseProvider } from '../core/model/providers'
import { positiveInt } from './options'

/** The options every command that runs the model takes (--model, --provider, --threads). */
export interface InferenceCliOptions {
  model?: string
  provider?: string
  threads?: string
  /** onnxruntime thread busy-waiting (see LoadOptions.spinning) */
  spinning?: boolean
}

/** The command line's inference options as the host's load options. */
export function loadOptions(options: InferenceCliOptions): LoadOptions {
  return {
    modelPath: options.model ?? defaultModelPath(),
    provider: parseProvider(options.provider),
    threads: positiveInt(options.threads, '--threads'),
    spinning: options.spinning,
  }
}

/** The line that says which model and provider run (stderr), once the host has loaded it. */
export function logModel(info: ModelInfo): void {
  process.stderr.write(
    `phonoscope: model ${info.name} ${info.version} (${info.sha256.slice(0, 12)}), provider ${info.providerNote}, ${info.threads} thread(s)\n`,
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
