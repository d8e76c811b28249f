import type { Command } from 'commander'
import { createInterface } from 'node:readline/promises'
import { SESSION_STATUSES, validateCall, type SessionFilter, type SessionInfo } from '../../core/api/app'
import { CLASS_LABELS, type Probabilities } from '../../core/api/classes'
import { withheldText } from '../../core/analysis/quality'
import { InputError } from '../../core/errors'
import { openRepository } from '../../core/sessions/open'
import type { SessionRepository } from '../../core/sessions/repository'
import { cliRepository, STORE_OPTION } from '../back-end'
import { positiveInt } from '../options'
import { runCommand } from '../run'

interface StoreOptions {
  sessions?: string
  json?: boolean
}

/** An examination as `sessions list --json` gives it (verdict and probabilities null when withheld). */
export function examJson(info: SessionInfo) {
  return {
    id: info.id,
    patient_id: info.patient,
    started_at: info.created,
    status: info.status,
    verdict: info.verdict ?? null,
    probabilities: info.probabilities ?? null,
    sites: info.sites.map((s) => ({
      site: s.site,
      status: s.status,
      duration_s: s.duration_s,
      verdict: s.verdict ?? null,
      probabilities: s.probabilities ?? null,
      sha256: s.sha256 ?? null,
    })),
  }
}

interface ListOptions {
  patient?: string
  status?: string
  limit?: string
  before?: string
}

/** sessions.list's filter from the options given (checked by validateCall). */
const listFilter = ({ patient, status, limit, before }: ListOptions): SessionFilter =>
  Object.fromEntries(
    Object.entries({ patient, status, before, limit: positiveInt(limit, '--limit') }).filter(
      ([, v]) => v !== undefined,
    ),
  )

/** The examinations in the store, read without the model: list, show, delete. */
export function registerSessions(program: Command): void {
  const sessions = program.command('sessions').description('the examinations in the store (no model needed)')
  sessions
    .command('list')
    .description('examinations, oldest first (one whose recorder is gone shows as interrupted)')
    .option('--patient <id>', "only this patient's")
    .option('--status <status>', `only these: ${SESSION_STATUSES.join(', ')}`)
    .option('--limit <n>', 'only the newest n (a page)')
    .option('--before <id>', 'only those older than this examination (the next page)')
    .option('--json', 'print a JSON array: id, patient_id, started_at, status, verdict, probabilities, sites')
    .option(...STORE_OPTION)
    .action((options: StoreOptions & ListOptions) =>
      runCommand(async () => {
        const filter = listFilter(options)
        validateCall('sessions.list', filter)
        const exams = await cliRepository(options.sessions).list(filter)
        if (options.json) return void console.log(JSON.stringify(exams.map(examJson)))
        if (exams.length === 0) return void console.log('no examinations')
        console.log(`${'id'.padEnd(21)} ${'patient'.padEnd(12)} ${'started'.padEnd(17)} ${'status'.padEnd(11)} verdict`)
        for (const e of exams) {
          const sites = e.sites.filter((s) => s.status !== 'pending').map((s) => s.site)
          console.log(
            `${e.id.padEnd(21)} ${(e.patient || '-').padEnd(12)} ${when(e.created).padEnd(17)} ${e.status.padEnd(11)} ${verdictText(e)}  (${sites.join(' ') || 'no site'})`,
          )
        }
      }),
    )
  sessions
    .command('show')
    .description('one examination: patient, sites, verdicts')
    .argument('<id>', 'session id')
    .option('--json', 'print JSON: the list entry, with the patient and the whole record')
    .option(...STORE_OPTION)
    .action((id: string, options: StoreOptions) =>
      runCommand(async () => {
        const repository = cliRepository(options.sessions)
        const info = await repository.get(id)
        const patient = info.patient === '' ? undefined : await repository.patient(info.patient)
        if (options.json) {
          return void console.log(JSON.stringify({ ...examJson(info), patient: patient ?? null, record: info }))
        }
        const who = patient?.name ? `${info.patient} (${patient.name})` : info.patient || 'none'
        console.log(`examination ${info.id}, ${info.status}, started ${when(info.created)}`)
        console.log(`patient ${who}; model ${info.model.name} ${info.model.version ?? ''}`.trimEnd())
        console.log(`verdict ${verdictText(info)}`)
        for (const s of info.sites) {
          const reason = s.quality && !s.quality.ok ? `withheld: ${withheldText(s.quality)}` : verdictText(s)
          const shown = s.status === 'done' || s.status === 'interrupted' ? reason : ''
          const from = s.imported_from ? `  from ${s.imported_from}` : ''
          console.log(
            `  ${s.site.padEnd(4)} ${s.status.padEnd(11)} ${`${s.duration_s.toFixed(1)} s`.padStart(8)}  ${shown}${from}`,
          )
        }
        if (info.notes) console.log(`notes: ${info.notes}`)
        console.log('Decision support, not a diagnosis.')
      }),
    )
  sessions
    .command('delete')
    .description('delete an examination and its audio for good')
    .argument('<id>', 'session id')
    .option('--yes', 'do not ask (needed when not run from a terminal)')
    .option(...STORE_OPTION)
    .action((id: string, options: StoreOptions & { yes?: boolean }) =>
      runCommand(async () => {
        const repository = cliRepository(options.sessions)
        const info = await repository.get(id)
        if (!options.yes && !(await confirmed(info))) {
          throw new InputError(`session ${id}`, 'not deleted')
        }
        await deleteExam(repository, info)
        console.log(`deleted ${id}`)
      }),
    )
  sessions
    .command('rebuild')
    .description(
      "rebuild a damaged database from the audio and each examination's session.json, keeping the damaged file (close the app first)",
    )
    .option('--json', 'print {sessions, damaged}: how many examinations came back, where the old database went')
    .option(...STORE_OPTION)
    .action((options: StoreOptions) =>
      runCommand(async () => {
        const store = openRepository(options.sessions)
        try {
          const { sessions: count, damaged } = await store.rebuild()
          if (options.json) return void console.log(JSON.stringify({ sessions: count, damaged: damaged ?? null }))
          console.log(`rebuilt ${store.dbPath}: ${count} examination(s)`)
          if (damaged) console.log(`the old database is kept as ${damaged}`)
        } finally {
          store.close()
        }
      }),
    )
}

/** As session.delete does it: never an examination being recorded. */
async function deleteExam(repository: SessionRepository, info: SessionInfo): Promise<void> {
  if (info.status === 'recording' || info.sites.some((s) => s.status === 'recording')) {
    throw new InputError(`session ${info.id}`, 'is being recorded: stop it before deleting it', 'conflict')
  }
  await repository.remove(info.id)
}

/** On a terminal: asks. Elsewhere (a script, a pipe) nobody can answer, so it refuses rather than assume. */
async function confirmed(info: SessionInfo): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new InputError(`session ${info.id}`, 'deleting is for good: add --yes to confirm (nothing was deleted)')
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const who = info.patient ? ` of patient ${info.patient}` : ''
    const answer = await prompt.question(`Delete examination ${info.id}${who} and its audio for good? [y/N] `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    prompt.close()
  }
}

const when = (iso: string): string => iso.slice(0, 16).replace('T', ' ')

const pct = (p: Probabilities, c: keyof Probabilities): string => `${(100 * p[c]).toFixed(0)}%`

/** "Mild (normal 20%, mild 62%, moderate-severe 18%)", or "withheld" */
function verdictText(r: { verdict?: keyof Probabilities; probabilities?: Probabilities }): string {
  if (!r.verdict || !r.probabilities) return 'withheld'
  const p = r.probabilities
  return `${CLASS_LABELS[r.verdict]} (normal ${pct(p, 'normal')}, mild ${pct(p, 'mild')}, moderate-severe ${pct(p, 'moderate_severe')})`
}
