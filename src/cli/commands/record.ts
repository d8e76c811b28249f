import type { Command } from 'commander'
import { SITES, type SessionInfo, type Site, type SiteStatus, type SourceSpec } from '../../core/api/app'
import { CLASS_LABELS } from '../../core/api/classes'
import { withheldText } from '../../core/analysis/quality'
import { InputError } from '../../core/errors'
import { listCaptureDevices } from '../../core/live/sox-source'
import { EXIT, runCommand } from '../run'
import { inferenceOptions } from '../inference'
import { startCliBackEnd, STORE_OPTION, type SessionCliOptions } from '../back-end'

interface RecordOptions extends SessionCliOptions {
  device?: string
  file?: string
  speed?: string
  session?: string
  seconds?: string
  site: string
  out?: string
  patient?: string
}

const percent = (p: number): string => `${(100 * p).toFixed(0).padStart(3)}%`

export function registerRecord(program: Command): void {
  inferenceOptions(
    program
      .command('record')
      .description('record one site headless into a session, with live verdict lines')
      .option('--device <name>', 'capture device (see `phonoscope devices`); "default" for the system input')
      .option('--file <path>', 'replay a recording at real time instead of capturing (demo, tests)')
      .option('--speed <x>', 'replay speed of --file: 1 real time, 0 as fast as it decodes (default 1)')
      .option('--session <id>', 'record the site into this running session (its own source) instead of a new one')
      .option('--seconds <n>', 'stop after this many seconds (default: until Ctrl-C, or the end of --file)')
      .option('--site <site>', `auscultation site: ${SITES.join(', ')}`, 'AV')
      .option('--patient <text>', 'patient label stored with the session', '')
      .option('--out <dir>', STORE_OPTION[1])
      .option('--hop <seconds>', 'seconds between live verdicts', '3'),
  ).action((options: RecordOptions) => runCommand(() => record(options)))

  program
    .command('devices')
    .description('list the capture devices `record --device` and the app can use')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      runCommand(async () => {
        const devices = await listCaptureDevices()
        if (options.json) return void console.log(JSON.stringify(devices))
        for (const d of devices) console.log(d.id === d.label ? d.id : `${d.id}\t${d.label}`)
      }),
    )
}

async function record(options: RecordOptions): Promise<void> {
  const site = options.site.toUpperCase() as Site
  if (!SITES.includes(site)) throw new InputError('--site', `must be one of ${SITES.join(', ')}`)
  if (options.session !== undefined && (options.device || options.file))
    throw new InputError('--session', "records from the session's own source: drop --device and --file")
  if (options.session === undefined && !options.device === !options.file)
    throw new InputError('record', 'give exactly one of --device or --file')
  const speed = options.speed === undefined ? undefined : Number(options.speed)
  if (speed !== undefined && !options.file) throw new InputError('--speed', 'only applies to --file')
  if (speed !== undefined && !(speed >= 0 && speed <= 64))
    throw new InputError('--speed', `must be between 0 and 64, not "${options.speed}"`)
  const seconds = options.seconds === undefined ? undefined : Number(options.seconds)
  if (seconds !== undefined && !(seconds > 0))
    throw new InputError('--seconds', `must be positive, not "${options.seconds}"`)
  const source: SourceSpec = options.file
    ? { kind: 'file', path: options.file, ...(speed !== undefined && { speed }) }
    : { kind: 'device', device: options.device! }

  const backEnd = await startCliBackEnd({ ...options, sessions: options.out })
  const { service } = backEnd
  try {
    service.on('verdict', (v) =>
      console.log(
        `${v.end_s.toFixed(1).padStart(6)} s  ` +
          (v.verdict === null
            ? `withheld: ${withheldText({ reasons: v.quality?.reasons ?? [] })}`
            : `${(v.provisional ? 'provisional ' : '') + CLASS_LABELS[v.verdict]}`.padEnd(26) +
              `normal ${percent(v.probabilities.normal)}  mild ${percent(v.probabilities.mild)}  moderate-severe ${percent(v.probabilities.moderate_severe)}`),
      ),
    )
    service.on('device', (d) => process.stderr.write(`phonoscope: ${d.message}\n`))
    service.on('error', (e) => process.stderr.write(`phonoscope: ${e.message}\n`))
    const session = options.session
      ? await service.call('session.get', { session: options.session })
      : await service.call('session.start', { patient: options.patient ?? '', source })
    process.stderr.write(`phonoscope: session ${session.id}, site ${site}, recording to ${service.store.location}\n`)
    // resolves with the site's status once it ended by itself (done, or interrupted by a failure the error event told)
    const finished = new Promise<SiteStatus | undefined>((resolve) => {
      service.on('session', (s) => {
        const status = s.id === session.id ? s.sites.find((r) => r.site === site)?.status : undefined
        if (status === 'done' || status === 'interrupted') resolve(status)
      })
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(undefined))
      if (seconds !== undefined) setTimeout(() => resolve(undefined), seconds * 1000)
    })
    await service.call('site.start', { session: session.id, site })
    if ((await finished) === 'interrupted') return void (process.exitCode = EXIT.badInput)
    // a session joined with --session stays open for the others recording it
    const final = options.session
      ? await service.call('site.stop', { session: session.id })
      : await service.call('session.stop', { session: session.id })
    console.log(describeSession(final))
  } finally {
    await backEnd.close()
  }
}

function describeSession(s: SessionInfo): string {
  const sites = s.sites
    .filter((r) => r.status !== 'pending')
    .map((r) => `${r.site} ${r.status} ${r.duration_s.toFixed(1)} s${r.verdict ? ` ${CLASS_LABELS[r.verdict]}` : ''}`)
  const verdict = s.verdict ? `verdict ${CLASS_LABELS[s.verdict]}` : 'no verdict'
  return `${s.id}  ${s.status.padEnd(11)} ${verdict}; ${sites.join('; ') || 'no site recorded'}`
}
