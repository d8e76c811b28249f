import type { Artefact, ArtefactRequest, PhonoscopeApi } from '../api/app'
import { validateArtefact } from '../api/app'
import type { LoadOptions, ModelInfo } from '../api/inference'
import { defaultModelPath } from '../model/card'
import { InferenceClient, type HostLauncher } from '../model/client'
import type { SessionRepository } from '../sessions/repository'
import { SessionService, type ModelRuntime, type ServiceOptions } from '../sessions/service'
import { openRepository } from '../sessions/open'
import { artefactProducers } from './artefacts'

export interface BackEndOptions extends ServiceOptions {
  /** the model and how to run it (default: the shipped model, the platform's provider) */
  inference?: Partial<LoadOptions>
  /** how the inference host is started (the Electron app: a utility process; default: a Node child process) */
  launcher?: HostLauncher
  /** where examinations are kept (default: the user's store, PHONOSCOPE_HOME overrides) */
  repository?: SessionRepository
  /** told of each session a recording process left behind, repaired at start-up (its audio is kept) */
  onRecovered?: (session: string) => void
}

/** What every transport serves: the contract, plus browser PCM for a session recording from a browser microphone. */
export interface BackEndApi extends PhonoscopeApi {
  feedBrowserAudio(session: string, samples: Float32Array): void
}

export interface BackEnd {
  api: BackEndApi
  service: SessionService
  model: ModelInfo
  client: InferenceClient
  /** closes recordings properly (WAV headers, site verdicts), then the inference host */
  close(): Promise<void>
}

/** The back end on a model that already runs (startBackEnd's, or an in-process one in tests). */
export function composeBackEnd(
  repository: SessionRepository,
  model: ModelRuntime,
  options: ServiceOptions = {},
): { api: BackEndApi; service: SessionService } {
  const service = new SessionService(repository, model, options)
  const produce = artefactProducers(repository, model.card)
  const api: BackEndApi = {
    call: (command, params) => service.call(command, params),
    on: (event, handler) => service.on(event, handler),
    artefact: (request: ArtefactRequest): Promise<Artefact> => {
      validateArtefact(request)
      return (produce[request.kind] as (r: ArtefactRequest) => Promise<Artefact>)(request)
    },
    feedBrowserAudio: (session, samples) => service.feedBrowserAudio(session, samples),
  }
  return { api, service }
}

/**
 * The one composition root of Phonoscope's back end, for the Electron main process, `phonoscope serve`, `record` and
 * the tests alike: the inference host with the model, the repository with interrupted sessions recovered, the session
 * service, and the artefacts. Transports only carry what it returns.
 */
export async function startBackEnd(options: BackEndOptions = {}): Promise<BackEnd> {
  const repository = options.repository ?? openRepository()
  for (const id of await repository.recover()) options.onRecovered?.(id)
  const client = new InferenceClient({ modelPath: defaultModelPath(), ...options.inference }, options.launcher)
  let model: ModelInfo
  try {
    model = await client.start()
  } catch (error) {
    await client.close()
    throw error
  }
  const { name, sha256, provider, card } = model
  const { api, service } = composeBackEnd(repository, { inferer: client, card, name, sha256, provider }, options)
  return {
    api,
    service,
    model,
    client,
    close: async () => {
      await service.close()
      await client.close()
    },
  }
}
