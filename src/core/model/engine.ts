import { resolve } from 'node:path'
import * as ort from 'onnxruntime-node'
import type { InferenceOutput, LoadOptions, ModelInfo, WindowBatch } from '../api/inference'
import { InputError } from '../errors'
import { cardPathFor, checkGraphOutputs } from './card'
import { choosePrecision } from './precision'
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
    const choose = choosePrecision(resolve(options.modelPath), options.precision)
    const opened = await openSession((provider) => choose(provider).file.path, {
      provider: options.provider,
      threads: options.threads,
      cpuMemArena: options.cpuMemArena,
      spinning: options.spinning,
    })
    const { file, note } = choose(opened.provider)
    try {
      checkGraphOutputs(file.card, opened.session.outputMetadata, cardPathFor(file.path))
    } catch (error) {
      await opened.session.release()
      throw error
    }
    const info: ModelInfo = {
      name: file.card.name,
      version: file.card.version,
      sha256: file.sha256,
      path: file.path,
      card: file.card,
      provider: opened.provider,
      providerNote: opened.note,
      precision: file.precision,
      precisionNote: note,
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
