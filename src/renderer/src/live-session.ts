import { explain } from '@core/errors'
import { computed, reactive, ref, shallowRef } from 'vue'
import {
  SITES,
  type Events,
  type Patient,
  type SessionInfo,
  type Site,
  type SourceSpec,
  type WindowVerdict,
} from '@core/api/app'
import type { ApiClient } from './api'
import type { VerdictState } from './components/VerdictPanel.vue'
import { MicrophoneCapture } from './audio/microphone'
import { recordState, windowState } from './verdict-state'

/** The spectrogram and waveform views the live session feeds (LiveSpectrogram.vue and PcgWaveform.vue expose these). */
export interface LiveSinks {
  columns(event: Events['columns']): void
  waveform(event: Events['waveform']): void
  reset(): void
}

/**
 * The guided exam's state, fed by the API's events: the session and its sites, the site being recorded, its window
 * verdicts, the input level, device outages. One per live view; `dispose` unsubscribes.
 */
export function useLiveSession(api: ApiClient, sinks: LiveSinks) {
  const session = ref<SessionInfo>()
  const recordingSite = ref<Site>()
  /** the window verdicts of the site on screen (the one recording, or the one last recorded) */
  const windows = shallowRef<WindowVerdict[]>([])
  const level = reactive({ rmsDb: undefined as number | undefined, clipping: false })
  const deviceMessage = ref<{ state: 'lost' | 'restored'; message: string }>()
  const error = ref<string>()
  const busy = ref(false)
  /** following an examination another window runs: shown as it goes, never controlled from here */
  const following = ref(false)
  /** an examination recording on the server that is not this view's (one at a time: it can be followed) */
  const running = ref<SessionInfo>()
  /** the site whose sound the spectrogram and waveform show */
  let painted: Site | undefined
  let microphone: MicrophoneCapture | undefined

  const mine = (id: string): boolean => session.value?.id === id

  const offs = [
    // the sound of the site recording, while it is the one on screen
    api.on('columns', (e) => mine(e.session) && e.site === painted && sinks.columns(e)),
    api.on('waveform', (e) => mine(e.session) && e.site === painted && sinks.waveform(e)),
    api.on('level', (e) => {
      if (!mine(e.session)) return
      level.rmsDb = e.rms_db
      level.clipping = e.clipping
    }),
    api.on('verdict', (e) => {
      if (mine(e.session) && e.site === recordingSite.value && e.site === shownSite.value) {
        windows.value = [...windows.value, e]
      }
    }),
    api.on('device', (e) => mine(e.session) && (deviceMessage.value = { state: e.state, message: e.message })),
    api.on('session', (info) => {
      if (mine(info.id)) applySession(info)
      else if (info.status === 'recording') running.value = info
      else if (running.value?.id === info.id) running.value = undefined
    }),
    api.on('error', (e) => (error.value = explain(e))),
  ]

  function applySession(info: SessionInfo): void {
    session.value = info
    if (running.value?.id === info.id) running.value = undefined
    if (info.status !== 'recording') following.value = false
    const recording = info.sites.find((s) => s.status === 'recording')
    if (!recording && recordingSite.value) {
      stopMicrophone()
      // the level is the input's now: nothing comes in once the site stops
      Object.assign(level, { rmsDb: undefined, clipping: false })
    }
    // a site started elsewhere (the window this one follows) comes on screen as it starts
    if (recording && recording.site !== recordingSite.value && recording.site !== painted) {
      showFresh(recording.site)
      windows.value = recording.windows
    }
    recordingSite.value = recording?.site
  }

  /** The spectrogram and waveform cleared for a site whose sound is about to arrive. */
  function showFresh(site: Site): void {
    sinks.reset()
    painted = site
    shownSite.value = site
  }

  const shownSite = ref<Site>()
  const siteRecord = computed(() => session.value?.sites.find((s) => s.site === shownSite.value))
  const latest = computed(() => windows.value.at(-1))

  /** What the verdict panel shows for the site on screen: a withheld one says why, and no probabilities. */
  const verdict = computed(() => {
    const record = siteRecord.value
    const none = { verdict: undefined, probabilities: undefined, descriptors: undefined }
    const site = { qualityReasons: record?.quality?.reasons, heartRateBpm: record?.heart_rate_bpm, live: false }
    if (record?.status === 'done' && record.probabilities) {
      const { verdict, probabilities, descriptors } = record
      return { state: 'final' as VerdictState, verdict, probabilities, descriptors, ...site }
    }
    // the site ended and the quality gate refused it: no live window's grade stays on screen
    if (record?.status === 'done' && recordState(record) === 'withheld') {
      return { state: 'withheld' as VerdictState, ...none, ...site }
    }
    const v = latest.value
    if (!v) return { state: recordState(record), ...none, ...site }
    const live = {
      qualityReasons: v.quality?.reasons,
      heartRateBpm: v.heart_rate_bpm,
      live: record?.status === 'recording',
    }
    // too little sound yet for the gate to grade: still listening, not a failed recording
    const listening = v.quality?.reasons.length === 1 && v.quality.reasons[0] === 'too_short'
    if (v.verdict === null) return { state: (listening ? 'waiting' : 'withheld') as VerdictState, ...none, ...live }
    const { verdict, probabilities, descriptors } = v
    return { state: windowState(v, 'live'), verdict, probabilities, descriptors, ...live }
  })
  const heardS = computed(() => (latest.value ? latest.value.end_s - latest.value.start_s : 0))

  /** The next site of the exam: the first one neither done nor skipped. */
  const nextSite = computed(
    () => session.value?.sites.find((s) => s.status === 'pending' || s.status === 'interrupted')?.site,
  )

  async function run<T>(work: () => Promise<T>): Promise<T | undefined> {
    busy.value = true
    error.value = undefined
    try {
      return await work()
    } catch (e) {
      error.value = explain(e)
      return undefined
    } finally {
      busy.value = false
    }
  }

  /** Starts an examination; a patient's record, when given, is filed first (what was on file stays, the form adds). */
  const startSession = (source: SourceSpec, patient: string, record?: Patient) =>
    run(async () => {
      if (record) {
        const filed = (await api.call('patients.list', { query: record.id })).find((p) => p.id === record.id)
        await api.call('patient.save', { patient: { ...filed, ...record } })
      }
      const info = await api.call('session.start', { source, patient }).catch(async (e: unknown) => {
        await findRunning() // refused because another examination records: offer to follow it
        throw e
      })
      windows.value = []
      deviceMessage.value = undefined
      following.value = false
      applySession(info)
      showFresh(SITES[0])
    })

  /** Whether the server records an examination of another window (at start-up, after a reconnect, a refusal). */
  async function findRunning(): Promise<void> {
    const sessions = await api.call('sessions.list', { status: 'recording' }).catch(() => [] as SessionInfo[])
    const other = sessions.find((s) => s.status === 'recording' && !mine(s.id))
    // a listing carries each site's summary: following the exam shows all of it (heart sounds and all)
    running.value = other && (await api.call('session.get', { session: other.id }).catch(() => other))
  }

  /** Shows the running examination as it goes, read-only: its sites, verdicts and the sound of the site recording. */
  function follow(info: SessionInfo): void {
    error.value = undefined
    following.value = true
    running.value = undefined
    recordingSite.value = undefined
    painted = undefined
    windows.value = []
    applySession(info)
    if (!recordingSite.value) showSite(info.sites[0]!.site)
  }

  const startSite = (site: Site) =>
    run(async () => {
      const id = session.value!.id
      showFresh(site)
      windows.value = []
      deviceMessage.value = undefined
      recordingSite.value = site
      applySession(await api.call('site.start', { session: id, site }))
      // the server takes microphone PCM once the site records; without a microphone, the site stops again
      if (session.value!.source.kind === 'browser') {
        try {
          microphone = await MicrophoneCapture.start((samples) => api.sendAudio?.(id, samples))
        } catch (e) {
          applySession(await api.call('site.stop', { session: id }))
          throw e
        }
      }
    })

  const stopSite = () =>
    run(async () => {
      stopMicrophone()
      applySession(await api.call('site.stop', { session: session.value!.id }))
    })

  const skipSite = (site: Site) =>
    run(async () => applySession(await api.call('site.skip', { session: session.value!.id, site })))

  const finishSession = () =>
    run(async () => {
      stopMicrophone()
      applySession(await api.call('session.stop', { session: session.value!.id }))
    })

  /** After a reconnect: the server's view of the session (it may have been interrupted meanwhile). */
  const refresh = () =>
    session.value && run(async () => applySession(await api.call('session.get', { session: session.value!.id })))

  /** Puts a site on screen: its windows, and its recorded spectrogram (none: an empty one, never another site's). */
  function showSite(site: Site): void {
    if (site === shownSite.value) return
    shownSite.value = site
    const record = session.value?.sites.find((s) => s.site === site)
    windows.value = record?.windows ?? []
    if (site === painted) return
    sinks.reset()
    painted = site
    if (!record || record.duration_s <= 0 || record.status === 'recording') return
    const id = session.value!.id
    void api
      .call('site.spectrogram', { session: id, site })
      .then((s) => painted === site && sinks.columns({ session: id, site, first_frame: 0, ...s }))
      .catch((e: unknown) => (error.value = explain(e)))
  }

  function stopMicrophone(): void {
    microphone?.stop()
    microphone = undefined
  }

  function dispose(): void {
    offs.forEach((off) => off())
    stopMicrophone()
  }

  return {
    session,
    following,
    running,
    findRunning,
    follow,
    recordingSite,
    shownSite,
    siteRecord,
    windows,
    latest,
    verdict,
    heardS,
    nextSite,
    level,
    deviceMessage,
    error,
    busy,
    startSession,
    startSite,
    stopSite,
    skipSite,
    finishSession,
    refresh,
    showSite,
    dispose,
  }
}
