import { readFile } from 'node:fs/promises'
import type { Artefact, ArtefactKind, ArtefactRequests } from '../api/app'
import type { ModelCard } from '../api/model-card'
import { InputError } from '../errors'
import { renderExamReport } from '../reports/exam-report'
import { examReportInput, siteSpectrogram } from '../reports/input'
import { sitePng } from '../reports/site-image'
import type { SessionRepository } from '../sessions/repository'
import { exportBundle } from './bundle'

type Producers = { readonly [K in ArtefactKind]: (request: ArtefactRequests[K]) => Promise<Artefact> }

/** The png artefact's pixels: one column per frame (up to a print page's width at 300 dpi), six rows per Mel bin. */
const PNG_MAX_WIDTH = 2400
const PNG_ROWS_PER_BIN = 6

/**
 * Each artefact kind's producer; the compiler requires one per kind of the contract. The app, the server and the CLI
 * (`report`, `export`) all make their files here, so each is the same file whichever asked.
 */
export function artefactProducers(repository: SessionRepository, card: ModelCard): Producers {
  return {
    wav: async ({ session, site }) => {
      await repository.get(session) // an unknown session is a not_found error, not a missing file
      const bytes = await readFile(repository.sitePath(session, site)).catch(() => {
        throw new InputError(`session ${session} site ${site}`, 'has no recording', 'not_found')
      })
      return { kind: 'wav', mime: 'audio/wav', filename: `${session}-${site}.wav`, bytes: new Uint8Array(bytes) }
    },
    pdf: async ({ session, paper }) => {
      const input = await examReportInput(repository, session, card)
      const bytes = await renderExamReport(input, paper)
      return { kind: 'pdf', mime: 'application/pdf', filename: `phonoscope-${session}.pdf`, bytes }
    },
    png: async ({ session, site }) => {
      const view = await siteSpectrogram(repository, session, site, card)
      if (!view) throw new InputError(`session ${session} site ${site}`, 'has no recording to draw', 'not_found')
      const bytes = sitePng(view, Math.min(PNG_MAX_WIDTH, view.frames), view.n_mels * PNG_ROWS_PER_BIN)
      return { kind: 'png', mime: 'image/png', filename: `${session}-${site}.png`, bytes: new Uint8Array(bytes) }
    },
    bundle: ({ session, deidentify }) => exportBundle(repository, session, { deidentify }),
  }
}
