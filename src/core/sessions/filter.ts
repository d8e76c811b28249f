import type { Patient, SessionFilter, SessionInfo, SiteRecord } from '../api/app'

/**
 * Whether a session passes sessions.list's filter: the patient's id exactly; `query` among the patient's id and name
 * and the notes (case-insensitive); the start date within from..to (dates compare by their day when given as one);
 * the patient verdict, or 'withheld' for none; the status; older than `before` (ids sort as their start times).
 * One definition for every repository (`limit` is the page's size: see newestPage).
 */
export function sessionMatches(info: SessionInfo, filter: SessionFilter, patient?: Patient): boolean {
  if (filter.patient !== undefined && info.patient !== filter.patient) return false
  if (filter.status !== undefined && info.status !== filter.status) return false
  if (filter.before !== undefined && info.id >= filter.before) return false
  if (filter.query !== undefined) {
    const words = [info.patient, patient?.name ?? '', info.notes].join('\n').toLowerCase()
    if (!words.includes(filter.query.toLowerCase())) return false
  }
  if (filter.from !== undefined && info.created < filter.from) return false
  if (filter.to !== undefined && info.created > lastOf(filter.to)) return false
  if (filter.verdict !== undefined && (info.verdict ?? 'withheld') !== filter.verdict) return false
  return true
}

/** The latest start time `to` admits: a day as `to` includes all of it. */
export const lastOf = (to: string): string => (to.length === 10 ? `${to}T99` : to)

/** The page sessions.list gives of the matching sessions (oldest first): the newest `limit` of them, or all. */
export const newestPage = <T>(matching: T[], filter: SessionFilter): T[] =>
  filter.limit === undefined ? matching : matching.slice(-filter.limit)

/** What a listing keeps of each site (SessionRepository.list); session.get has the rest (windows, heart sounds...). */
export const LISTED_SITE_FIELDS = [
  'site',
  'status',
  'duration_s',
  'sample_rate',
  'verdict',
  'probabilities',
  'quality',
  'sha256',
  'imported_from',
  'finding',
] as const satisfies readonly (keyof SiteRecord)[]

/** A session as a listing has it: each site's summary, with no windows. */
export const listed = (info: SessionInfo): SessionInfo => ({
  ...info,
  sites: info.sites.map((site) => {
    const summary: Partial<SiteRecord> = {}
    for (const field of LISTED_SITE_FIELDS)
      if (site[field] !== undefined) Object.assign(summary, { [field]: site[field] })
    return { ...summary, windows: [] } as SiteRecord
  }),
})
