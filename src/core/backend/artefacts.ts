import { readFile } from 'node:fs/promises'
import type { Artefact, ArtefactKind, ArtefactRequests } from '../api/app'
import { InputError } from '../errors'
import type { SessionRepository } from '../sessions/repository'
import type { ModelRuntime } from '../sessions/service'

type Producers = { readonly [K in ArtefactKind]: (request: ArtefactRequests[K]) => Promise<Artefact> }

/** Each artefact kind's producer; the compiler requires one per kind of the contract. */
export function artefactProducers(repository: SessionRepository, _model: ModelRuntime): Producers {
  const notYet = (kind: ArtefactKind) => async (): Promise<Artefact> => {
    throw new InputError(`artefact ${kind}`, 'is not available in this version')
  }
  return {
    wav: async ({ session, site }) => {
      await repository.get(session) // an unknown session is a not_found error, not a missing file
      const bytes = await readFile(repository.sitePath(session, site)).catch(() => {
        throw new InputError(`session ${session} site ${site}`, 'has no recording', 'not_found')
      })
      return { kind: 'wav', mime: 'audio/wav', filename: `${session}-${site}.wav`, bytes: new Uint8Array(bytes) }
    },
    pdf: notYet('pdf'),
    png: notYet('png'),
    bundle: notYet('bundle'),
  }
}
