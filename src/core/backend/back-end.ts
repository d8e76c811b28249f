import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, sep } from 'node:path'
import type { Artefact, ArtefactRequest, ImportFile, ImportLimits, ImportSummary, PhonoscopeApi } from '../api/app'
import { validateArtefact, validateImport } from '../api/app'
import type { LoadOptions, ModelInfo } from '../api/inference'
import { defaultModelPath } from '../model/card'
import { InferenceClient, type HostLauncher } from '../model/client'
import type { SessionRepository } from '../sessions/repository'
import { SessionService, type ModelRuntime, type ServiceOptions } from '../sessions/service'
import { openRepository } from '../sessions/open'
import { artefactProducers } from './artefacts'
import { BUNDLE_EXTENSION, MAX_BUNDLE_BYTES } from './bundle'
import { importPaths } from './import'

/** What one importFiles call takes (the server checks a request's names and sizes against them before reading it). */
export const IMPORT_LIMITS: ImportLimits = {
  extensions: ['.wav', '.flac', BUNDLE_EXTENSION],
  maxFiles: 64,
  maxFileBytes: MAX_BUNDLE_BYTES,
  maxTotalBytes: 2 * 1024 ** 3,
}

/** How the back end's imports run: the app's main bundle names its recording worker (import.ts's workerScript). */
export interface ComposeOptions extends ServiceOptions {
  recordingWorker?: URL
}

export interface BackEndOptions extends ComposeOptions {
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
  options: ComposeOptions = {},
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
    importFiles: async (files: ImportFile[]): Promise<ImportSummary> => {
      validateImport(files, IMPORT_LIMITS) // a rejection, as every failure of a call
      return importUploads(files, repository, model, options.recordingWorker)
    },
    feedBrowserAudio: (session, samples) => service.feedBrowserAudio(session, samples),
  }
  return { api, service }
}

/**
 * Uploaded files imported as `phonoscope import` imports them: written under their own names (validated: plain base
 * names, each once) into a folder only this user may read, then gone. What failed is named as it was uploaded.
 */
async function importUploads(
  files: ImportFile[],
  repository: SessionRepository,
  model: ModelRuntime,
  workerScript?: URL,
): Promise<ImportSummary> {
  const folder = await mkdtemp(join(tmpdir(), 'phonoscope-upload-')) // mkdtemp makes it 0700
  try {
    const paths = files.map(({ name }) => join(folder, name))
    for (const [i, { bytes }] of files.entries()) await writeFile(paths[i]!, bytes, { mode: 0o600 })
    const summary = await importPaths(paths, { repository, model: () => Promise.resolve(model), workerScript })
    const uploaded = (text: string) => text.replaceAll(folder + sep, '')
    summary.failed = summary.failed.map(({ path, error }) => ({ path: uploaded(path), error: uploaded(error) }))
    return summary
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
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
