import { resolve } from 'node:path'
import * as ort from 'onnxruntime-node'
import type { InferenceOutput, LoadOptions, ModelInfo, WindowBatch } from '../api/inference'
import { InputError } from '../errors'
import type { ModelCard } from '../api/model-card'
import { cardPathFor, checkGraphOutputs, loadModelCard, sha256File } from './card'
import { openSession } from './providers'

/**
 * One model: its checked card and one onnxruntime session. Used directly by benchmarks and inside the inference
 * host (src/core/model/host.ts); everything else talks to the host.
 */
export class OnnxModel {
  private constructor(
    readonly info: ModelInfo,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(options: LoadOptions): Promise<OnnxModel> {
    const path = resolve(options.modelPath)
    const card: ModelCard = loadModelCard(path)
    const sha256 = sha256File(path)
    if (card.onnx?.sha256 && card.onnx.sha256 !== sha256) {
      throw new InputError(
        path,
        'does not match its model card (sha256 differs: the .onnx and .json are from different exports)',
      )
    }
    const opened = await openSession(path, {
      provider: options.provider,
      threads: options.threads,
      cpuMemArena: options.cpuMemArena,
      spinning: options.spinning,
    })
    try {
      checkGraphOutputs(card, opened.session.outputMetadata, cardPathFor(path))
    } catch (error) {
      await opened.session.release()
      throw error
    }
    const info: ModelInfo = {
      name: card.name,
      version: card.version,
      sha256,
      path,
      card,
      provider: opened.provider,
      providerNote: opened.note,
      threads: opened.threads,
    }
    return new OnnxModel(info, opened.session)
  }

  get nMels(): number {
    return this.info.card.frontend.n_mels
  }

  async infer(input: WindowBatch): Promise<InferenceOutput> {
    const { batch, frames, nMels, data } = input
    if (nMels !== this.nMels) throw new InputError('input', `has ${nMels} Mel bins, the model wants ${this.nMels}`)
    if (data.length !== batch * frames * nMels)
      throw new Error(`input holds ${data.length} values, not ${batch}x${frames}x${nMels}`)
    const tensor = new ort.Tensor('float32', data, [batch, 1, frames, nMels])
    const start = performance.now()
    const out = await this.session.run({ log_mel: tensor })
    const ms = performance.now() - start
    const logProbs = out.log_probs!
    const attention = out.attention!
    const dims = attention.dims as number[]
    const result: InferenceOutput = {
      logProbs: logProbs.data as Float32Array,
      attention: attention.data as Float32Array,
      attentionShape: [dims[0]!, dims[1]!, dims[2]!, dims[3]!],
      ms,
      ...this.headLogProbs(out, batch),
    }
    tensor.dispose()
    return result
  }

  /** Each descriptor head's [batch, labels] log-probs, by name: only for a card with heads. */
  private headLogProbs(out: ort.InferenceSession.ReturnType, batch: number): Pick<InferenceOutput, 'headLogProbs'> {
    const heads = this.info.card.heads
    if (!heads?.length) return {}
    const entries = heads.map((head) => {
      const data = out[head.output]!.data as Float32Array
      if (data.length !== batch * head.labels.length)
        throw new Error(`${head.output} holds ${data.length} values, not ${batch}x${head.labels.length}`)
      return [head.name, data] as const
    })
    return { headLogProbs: Object.fromEntries(entries) }
  }

  async release(): Promise<void> {
    await this.session.release()
  }
}
