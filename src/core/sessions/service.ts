import { EventEmitter } from 'node:events'
import { basename } from 'node:path'
import {
  EXAM_SITES,
  type CommandName,
  type DeviceInfo,
  type Events,
  type EventName,
  type Params,
  type PhonoscopeApi,
  type Result,
  type SessionEdit,
  type SessionInfo,
  type Site,
  type SiteRecord,
  type SourceSpec,
  type WindowVerdict,
  sitesToDo,
  validateCall,
} from '../api/app'
import type { ModelCard } from '../api/model-card'
import { classifyFeatures, type Inferer } from '../analysis/classify'
import { recordingFeatures } from '../analysis/recording'
import type { WavWriter } from '../audio/wav-writer'
import { computeFeatures } from '../dsp/features'
import { errorText, InputError, toWire } from '../errors'
import { LiveAnalyzer } from '../live/analyzer'
import { BrowserSource } from '../live/browser-source'
import { SiteCapture } from '../live/site-capture'
import type { AudioSource } from '../live/source'
import { checkReadable, listSources, openSource, type FileAccess } from '../live/sources'
import { updatePatientVerdict } from './patient-verdict'
import type { SessionRepository } from './repository'
import { siteResult, SITE_RESULT_FIELDS } from './site-result'
import { DiskFullError, isDiskFull, newSessionId } from './store'

/** The model the service runs, whichever host carries it. */
export interface ModelRuntime {
  inferer: Inferer
  card: ModelCard
  name: string
  sha256: string
  provider: string
}

interface ActiveSite {
  site: Site
  capture: SiteCapture
  /** gives up this process's claim on the site (store.claimSite) */
  release: () => Promise<void>
  windows: WindowVerdict[]
  done: Promise<void>
}

export interface ServiceOptions extends FileAccess {
  /** seconds between live verdicts (default 3) */
  hopS?: number
}

/**
 * Phonoscope's back end, the same in the Electron main process and in `phonoscope serve`: sessions with a guided
 * four-site exam, live capture through any AudioSource, crash-safe recording, live verdicts, final verdicts that
 * equal an offline classify of what was recorded. Implements the API contract; transports only carry it.
 */
export class SessionService implements Pick<PhonoscopeApi, 'call' | 'on'> {
  private readonly events = new EventEmitter()
  private readonly active = new Map<string, ActiveSite>()
  private readonly browserSources = new Map<string, BrowserSource>()

  private readonly defaultHopS: number

  constructor(
    readonly store: SessionRepository,
    private readonly model: ModelRuntime,
    private readonly options: ServiceOptions = {},
  ) {
    this.defaultHopS = options.hopS ?? 3
    this.events.setMaxListeners(100)
  }

  on<E extends EventName>(event: E, handler: (data: Events[E]) => void): () => void {
    this.events.on(event, handler)
    return () => void this.events.off(event, handler)
  }

  private emit<E extends EventName>(event: E, data: Events[E]): void {
    this.events.emit(event, data)
  }

  /** Every command, from either transport: checked against the contract's schema before its handler sees it. */
  async call<C extends CommandName>(command: C, params: Params<C>): Promise<Result<C>> {
    validateCall(command, params)
    const handler = this.handlers[command] as (p: Params<C>) => Promise<Result<C>>
    return handler(params ?? ({} as Params<C>))
  }

  /** One per command of the contract; its params were validated by `call` against COMMAND_SCHEMAS. */
  private readonly handlers: { [C in CommandName]: (p: Params<C>) => Promise<Result<C>> } = {
    'devices.list': (): Promise<DeviceInfo[]> => listSources(),
    'model.info': async () => {
      const { name, sha256, provider, card } = this.model
      return { name, version: card.version, sha256, provider, card }
    },
    'session.start': (p) => this.startSession(p.source, p.patient ?? '', p.hop_s),
    'site.start': (p) => this.startSite(p.session, p.site),
    'site.stop': (p) => this.stopSite(p.session),
    'site.skip': (p) => this.skipSite(p.session, p.site),
    'session.stop': (p) => this.stopSession(p.session),
    'sessions.list': (filter) => this.store.list(filter),
    'session.update': (edit) => this.editSession(edit),
    'session.delete': (p) => this.deleteSession(p.session, p.confirm),
    'patients.list': (p) => this.store.patients(p.query),
    'patient.save': (p) => this.store.savePatient(p.patient),
    'session.get': (p) => this.store.get(p.session),
    'site.spectrogram': (p) => this.spectrogram(p.session, p.site),
  }

  /** Browser microphone PCM for a session whose source is 'browser' (server mode). */
  feedBrowserAudio(session: string, samples: Float32Array): void {
    const source = this.browserSources.get(session)
    if (!source) throw new InputError(`session ${session}`, 'is not recording from a browser microphone')
    source.push(samples)
  }

  private async startSession(source: SourceSpec, patient: string, hopS?: number): Promise<SessionInfo> {
    if (source.kind === 'file' && source.path !== undefined) checkReadable(source.path, this.options)
    // one exam at a time: a second window or tab follows the running one (sessions.list, events) instead
    const running = (await this.store.list()).find((s) => s.status === 'recording')
    if (running) {
      const who = running.patient ? ` (${running.patient})` : ''
      throw new InputError(`examination ${running.id}${who}`, 'is in progress: finish it before starting another')
    }
    const info: SessionInfo = {
      id: newSessionId(),
      created: new Date().toISOString(),
      patient,
      status: 'recording',
      source,
      sites: EXAM_SITES.map((site) => ({ site, status: 'pending', duration_s: 0, sample_rate: 0, windows: [] })),
      model: {
        name: this.model.name,
        version: this.model.card.version,
        sha256: this.model.sha256,
        aggregation: this.model.card.aggregation,
      },
      notes: '',
      dropped_windows: 0,
      hop_s: hopS ?? this.defaultHopS,
    }
    await this.store.create(info)
    return this.changed(info)
  }

  private async startSite(id: string, site: Site): Promise<SessionInfo> {
    if (this.active.has(id)) await this.stopSite(id)
    // the session may be shared with other processes: the site is claimed before its WAV is touched
    const release = await this.store.claimSite(id, site)
    let started: { info: SessionInfo; source: AudioSource; writer: WavWriter }
    try {
      started = await this.openSite(id, site)
    } catch (error) {
      await release()
      throw error
    }
    const { info, source, writer } = started
    const { sample_rate, hop_length } = this.model.card.frontend
    const hopFrames = Math.max(1, Math.round(((info.hop_s ?? this.defaultHopS) * sample_rate) / hop_length))
    const windows: WindowVerdict[] = []
    const analyzer = new LiveAnalyzer(
      site,
      this.model.card,
      this.model.inferer,
      hopFrames,
      {
        columns: (block, first) =>
          this.emit('columns', {
            session: id,
            site,
            first_frame: first,
            frames: block.frames,
            n_mels: block.nMels,
            data: Array.from(block.data),
          }),
        verdict: (verdict) => {
          windows.push(verdict)
          this.emit('verdict', { session: id, ...verdict })
        },
      },
      this.model.provider,
    )
    const capture = new SiteCapture(source, info.source, writer, analyzer, this.model.card.frontend.sample_rate, {
      level: (level) => this.emit('level', { session: id, ...level }),
      waveform: (waveform) => this.emit('waveform', { session: id, site, ...waveform }),
      device: (device) => this.emit('device', { session: id, ...device }),
    })
    const active: ActiveSite = { site, capture, release, windows, done: Promise.resolve() }
    active.done = capture
      .run()
      .then(() => {
        if (!capture.stopped) return this.finishSite(id).then(() => undefined) // the file ended by itself
      })
      .catch((error: unknown) => this.interruptSite(id, active, error))
      .catch((error: unknown) => this.emit('error', toWire(error)))
    this.active.set(id, active)
    return this.changed(info)
  }

  /** The claimed site's source and WAV, and the session with the site marked recording. */
  private async openSite(id: string, site: Site) {
    const recording = (info: SessionInfo): void => {
      if (info.status !== 'recording') throw new InputError(`session ${id}`, `is ${info.status}, not recording`)
    }
    const current = await this.store.get(id)
    recording(current) // before anything is opened or overwritten
    await this.store.hold(id)
    const source = await openSource(current.source)
    if (source instanceof BrowserSource) this.browserSources.set(id, source)
    try {
      const writer = await this.store.openWav(id, site, source.sampleRate)
      const info = await this.store.update(id, (info) => {
        recording(info)
        const record = siteOf(info, site)
        Object.assign(record, { status: 'recording', sample_rate: source.sampleRate })
        clearResult(record)
      })
      return { info, source, writer }
    } catch (error) {
      source.stop()
      throw error
    }
  }

  /**
   * A capture that failed (the disk full, a source that broke) stops the site at once: what reached the disk is
   * kept and the site is marked interrupted. The message names the folder and what was kept.
   */
  private async interruptSite(id: string, active: ActiveSite, error: unknown): Promise<void> {
    this.active.delete(id)
    this.browserSources.delete(id)
    active.capture.stop()
    const { writer, analyzer } = active.capture
    const kept = writer.framesWritten / writer.sampleRate
    const cause = isDiskFull(error) ? 'the disk is full' : errorText(error)
    const wav = basename(this.store.sitePath(id, active.site))
    const problem = `${cause}; site ${active.site} stopped, its first ${kept.toFixed(1)} s are kept in ${wav}`
    const reported = new InputError(this.store.folder(id), problem, 'storage')
    this.emit('error', isDiskFull(error) ? toWire(reported) : { kind: 'internal', message: reported.message })
    try {
      await this.store.update(id, (info) => {
        Object.assign(siteOf(info, active.site), { status: 'interrupted', duration_s: kept, windows: active.windows })
        info.dropped_windows += analyzer.dropped
      })
    } catch (error) {
      if (!(error instanceof DiskFullError)) throw error
      // session.json cannot be rewritten: with the claim released below, the site reads as interrupted anyway
    } finally {
      await active.release()
    }
    this.changed(await this.store.get(id))
  }

  private async stopSite(id: string): Promise<SessionInfo> {
    const active = this.active.get(id)
    if (!active) return this.store.get(id)
    active.capture.stop()
    await active.done
    return this.finishSite(id)
  }

  /** The site's final verdict is an offline classify of the WAV just recorded: live and offline cannot disagree. */
  private async finishSite(id: string): Promise<SessionInfo> {
    const active = this.active.get(id)
    if (!active) return this.store.get(id)
    this.active.delete(id)
    this.browserSources.delete(id)
    try {
      const { writer, analyzer } = active.capture
      const record: Partial<SiteRecord> = {
        windows: active.windows,
        duration_s: writer.framesWritten / writer.sampleRate,
        status: 'done',
      }
      if (writer.framesWritten > 0) {
        const features = await recordingFeatures(this.store.sitePath(id, active.site), this.model.card.frontend)
        if (features.frames >= 1) {
          Object.assign(record, siteResult(await classifyFeatures(features, this.model.card, this.model.inferer)))
        }
      }
      // only this site changes: other processes may be recording the session's other sites
      const info = await this.store.update(id, (info) => {
        Object.assign(siteOf(info, active.site), record)
        info.dropped_windows += analyzer.dropped
        updatePatientVerdict(info, this.model.card)
      })
      return this.changed(info)
    } finally {
      await active.release() // after the save, so that no reader ever sees the site recording without a writer
    }
  }

  private async skipSite(id: string, site: Site): Promise<SessionInfo> {
    if (this.active.get(id)?.site === site) await this.stopSite(id)
    const info = await this.store.update(id, (info) => {
      const record = siteOf(info, site)
      record.status = 'skipped'
      clearResult(record)
      updatePatientVerdict(info, this.model.card)
    })
    return this.changed(info)
  }

  private async stopSession(id: string): Promise<SessionInfo> {
    await this.stopSite(id)
    // sites other processes are recording finish normally; the session takes no new ones
    // finished with sites still to do, it is filed as incomplete, never as a complete examination
    const info = await this.store.update(
      id,
      (info) => void (info.status = sitesToDo(info).length ? 'incomplete' : 'complete'),
    )
    await this.store.letGo(id)
    return this.changed(info)
  }

  /** The clinician's edits after the fact; a patient named for the first time is filed as one. */
  private async editSession(edit: SessionEdit): Promise<SessionInfo> {
    if (edit.patient !== undefined && edit.patient !== '' && !(await this.store.patient(edit.patient))) {
      await this.store.savePatient({ id: edit.patient })
    }
    const info = await this.store.update(edit.session, (info) => {
      if (edit.patient !== undefined) info.patient = edit.patient
      if (edit.notes !== undefined) info.notes = edit.notes
      if (edit.device !== undefined) info.device = edit.device
      if (edit.finding === null) delete info.finding
      else if (edit.finding !== undefined) info.finding = edit.finding
      for (const { site, finding } of edit.site_findings ?? []) {
        const record = siteOf(info, site)
        if (finding === null) delete record.finding
        else record.finding = finding
      }
    })
    return this.changed(info)
  }

  /** Deletes an examination and its audio for good: only when asked twice (confirm) and nobody records it. */
  private async deleteSession(id: string, confirm: string): Promise<{ deleted: string }> {
    if (confirm !== id) throw new InputError('confirm', 'must repeat the session id to delete it (nothing was deleted)')
    const info = await this.store.get(id)
    if (info.status === 'recording' || this.active.has(id)) {
      throw new InputError(`session ${id}`, 'is being recorded: stop it before deleting it', 'conflict')
    }
    await this.store.remove(id)
    return { deleted: id }
  }

  private async spectrogram(id: string, site: Site): Promise<Result<'site.spectrogram'>> {
    await this.store.get(id)
    const block = await computeFeatures(this.store.sitePath(id, site), this.model.card.frontend)
    const { hop_length, sample_rate } = this.model.card.frontend
    return { frames: block.frames, n_mels: block.nMels, hop_s: hop_length / sample_rate, data: Array.from(block.data) }
  }

  private changed(info: SessionInfo): SessionInfo {
    this.emit('session', info)
    return info
  }

  /** Stops every capture (shutdown): what was recorded is closed properly and classified. */
  async close(): Promise<void> {
    await Promise.all([...this.active.keys()].map((id) => this.stopSite(id)))
    await this.store.letGoAll()
  }
}

function siteOf(info: SessionInfo, site: Site): SiteRecord {
  const record = info.sites.find((s) => s.site === site)
  if (!record) throw new InputError(`site ${site}`, `is not part of session ${info.id}`)
  return record
}

/** A site about to be recorded again, or skipped, keeps nothing of an earlier recording's result. */
function clearResult(record: SiteRecord): void {
  Object.assign(record, { duration_s: 0, windows: [] })
  for (const key of SITE_RESULT_FIELDS) delete record[key]
}
