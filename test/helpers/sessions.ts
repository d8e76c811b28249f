import type { Descriptors, SessionInfo } from '../../src/core/api/app'

/** A session as the service makes one, every optional field of a finished exam filled in. */
export function exam(id: string, patch: Partial<SessionInfo> = {}): SessionInfo {
  return {
    id,
    created: `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T10:00:00.000Z`,
    patient: 'MRN-1',
    status: 'complete',
    source: { kind: 'file', path: '/tmp/a.wav', speed: 0 },
    sites: [
      {
        site: 'AV',
        status: 'done',
        duration_s: 2.5,
        sample_rate: 4000,
        windows: [],
        probabilities: { normal: 0.7, mild: 0.2, moderate_severe: 0.1 },
        verdict: 'normal',
        verdict_windows: [{ index: 0, start_s: 0, end_s: 2.5 }],
        quality: { score: 0.9, ok: true, reasons: [] },
        heart_rate_bpm: null, // null (no rate found) must stay null, not vanish
        heart_sounds: { s1: [0.1], s2: [0.4] },
        murmur_timing: null,
        sha256: `sha-${id}`,
        imported_from: 'a.wav',
        finding: { murmur: 'no', note: 'clear' },
      },
      { site: 'PV', status: 'pending', duration_s: 0, sample_rate: 0, windows: [] },
    ],
    probabilities: { normal: 0.7, mild: 0.2, moderate_severe: 0.1 },
    verdict: 'normal',
    model: { name: 'tiny', sha256: 'abc', aggregation: 'mean', version: '1' },
    notes: 'first visit',
    device: 'Eko Core',
    finding: { murmur: 'yes', grade: 2, note: 'soft' },
    dropped_windows: 0,
    hop_s: 1,
    ...patch,
  }
}

/** A murmur's descriptors as a model with every head gives them; its pitch is uncertain (top label under 0.5). */
export const DESCRIPTORS: Descriptors = {
  systolic_timing: {
    label: 'holosystolic',
    probabilities: { early_systolic: 0.1, mid_systolic: 0.18, holosystolic: 0.72 },
  },
  systolic_shape: { label: 'plateau', probabilities: { decrescendo: 0.2, diamond: 0.25, plateau: 0.55 } },
  systolic_pitch: { label: 'high', probabilities: { low: 0.3, medium: 0.29, high: 0.41 } },
  systolic_quality: { label: 'harsh', probabilities: { blowing: 0.35, harsh: 0.65 } },
  diastolic: { label: 'no', probabilities: { no: 0.9, yes: 0.1 } },
  audible_here: { label: 'yes', probabilities: { no: 0.2, yes: 0.8 } },
}

/** exam(), its AV site a mild murmur described by DESCRIPTORS. */
export function describedExam(id: string, patch: Partial<SessionInfo> = {}): SessionInfo {
  const info = exam(id, patch)
  Object.assign(info.sites[0]!, {
    probabilities: { normal: 0.2, mild: 0.7, moderate_severe: 0.1 },
    verdict: 'mild',
    descriptors: DESCRIPTORS,
  })
  return info
}
