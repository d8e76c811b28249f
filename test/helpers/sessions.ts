import type { SessionInfo } from '../../src/core/api/app'

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
