import { computed, reactive, ref, shallowRef } from 'vue'
import { SITES, type Events, type SessionInfo, type Site, type SourceSpec, type WindowVerdict } from '@core/api/app'
import type { ApiClient } from './api'
import type { VerdictState } from './components/VerdictPanel.vue'
import { MicrophoneCapture } from './audio/microphone'

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
  let microphone: MicrophoneCapture | undefined

  const mine = (id: string): boolean => session.value?.id === id

  const offs = [
    api.on('columns', (e) => mine(e.session) && e.site === recordingSite.value && sinks.columns(e)),
    api.on('waveform', (e) => mine(e.session) && e.site === recordingSite.value && sinks.waveform(e)),
    api.on('level', (e) => {
      if (!mine(e.session)) return
      level.rmsDb = e.rms_db
      level.clipping = e.clipping
    }),
    api.on('verdict', (e) => {
      if (mine(e.session) && e.site === recordingSite.value) windows.value = [...windows.value, e]
    }),
    api.on('device', (e) => mine(e.session) && (deviceMessage.value = { state: e.state, message: e.message })),
    api.on('session', (info) => mine(info.id) && applySession(info)),
    api.on('error', (e) => (error.value = e.message)),
  ]

  function applySession(info: SessionInfo): void {
    session.value = info
    const recording = info.sites.find((s) => s.status === 'recording')
    if (!recording && recordingSite.value) stopMicrophone()
    recordingSite.value = recording?.site
  }

  const shownSite = ref<Site>()
  const siteRecord = computed(() => session.value?.sites.find((s) => s.site === shownSite.value))
  const latest = computed(() => windows.value.at(-1))

  /** What the verdict panel shows for the site on screen. */
  const verdict = computed(() => {
    const record = siteRecord.value
    if (record?.status === 'done' && record.probabilities) {
      return { state: 'final' as VerdictState, verdict: record.verdict, probabilities: record.probabilities }
    }
    const v = latest.value
    if (!v) {
      const state: VerdictState = record?.status === 'recording' ? 'waiting' : 'idle'
      return { state, verdict: undefined, probabilities: undefined }
    }
    return { state: (v.provisional ? 'provisional' : 'live') as VerdictState, ...v }
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
      error.value = e instanceof Error ? e.message : String(e)
      return undefined
    } finally {
      busy.value = false
    }
  }

  const startSession = (source: SourceSpec, patient: string) =>
    run(async () => {
      const info = await api.call('session.start', { source, patient })
      windows.value = []
      deviceMessage.value = undefined
      applySession(info)
      shownSite.value = SITES[0]
    })

  const startSite = (site: Site) =>
    run(async () => {
      const id = session.value!.id
      sinks.reset()
      windows.value = []
      deviceMessage.value = undefined
      shownSite.value = site
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

  function showSite(site: Site): void {
    if (site === shownSite.value) return
    shownSite.value = site
    windows.value = session.value?.sites.find((s) => s.site === site)?.windows ?? []
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
