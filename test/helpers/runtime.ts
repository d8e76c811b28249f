import type { ModelInfo } from '../../src/core/api/inference'
import { OnnxModel } from '../../src/core/model/engine'
import type { ModelRuntime } from '../../src/core/sessions/service'

/** A model runtime in this process (no host), for tests of what sits above inference. */
export async function inProcessRuntime(modelPath: string): Promise<ModelRuntime & { info: ModelInfo }> {
  const model = await OnnxModel.load({ modelPath, threads: 1 })
  const { info } = model
  return { inferer: model, card: info.card, name: info.name, sha256: info.sha256, provider: info.provider, info }
}
