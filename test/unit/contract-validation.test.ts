import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COMMAND_SCHEMAS, type CommandName, type Params } from '../../src/core/api/app'
import { composeBackEnd } from '../../src/core/backend/back-end'
import { InputError } from '../../src/core/errors'
import { SessionService, type ModelRuntime } from '../../src/core/sessions/service'
import { SAMPLE_RECORDING } from '../../src/core/live/sources'
import { SessionStore } from '../../src/core/sessions/store'
import { serve, type RunningServer } from '../../src/server/server'
import { client, pageSecret, RENDERER_DIR, socketUrl } from '../helpers/server'
import { inProcessRuntime } from '../helpers/runtime'
import { scratch } from '../helpers/paths'
import { sine, wavBytes } from '../helpers/wav'
import { tinyModel } from './model-fixture'

/** A patient's recording outside the sessions folder: what a traversal through a parameter would reach. */
const outside = scratch('phonoscope-outside-')
const outsideWav = outside.put('patient.wav', wavBytes({ samples: sine(100, 3, 4000) }))

const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', '__defineGetter__']
const TRAVERSALS = ['../../../../home/user/patient', '..', '/etc/passwd', 'AV/../../x', '..\\..\\x', '%2e%2e%2f']
const WRONG_TYPES: unknown[] = [42, true, null, [], {}, ['AV']]

interface Case {
  what: string
  command: string
  params: unknown
  /** the one-line message: the parameter's name first */
  message: RegExp
  /** the server refuses it itself, before the service (a command that is not a string) */
  serviceOnly?: boolean
}

/** The params a command may go without. */
const OPTIONAL_KEYS: Partial<Record<CommandName, string[]>> = {
  'session.start': ['patient', 'hop_s'],
  'sessions.list': ['patient', 'verdict'],
  'session.update': ['notes', 'finding'],
  'patients.list': ['query'],
}

/** Every command given wrong names, wrong values, wrong types, extra and missing keys, JSON-shaped (both transports). */
function cases(session: string): Case[] {
  const valid: { [C in CommandName]: Params<C> } = {
    'devices.list': {},
    'model.info': {},
    'session.start': { patient: 'p', source: { kind: 'file', speed: 0 }, hop_s: 3 },
    'site.start': { session, site: 'AV' },
    'site.stop': { session },
    'site.skip': { session, site: 'AV' },
    'session.stop': { session },
    'sessions.list': { patient: 'p-1', verdict: 'withheld' },
    'session.update': { session, notes: 'n', finding: { murmur: 'yes', grade: 2 } },
    'session.delete': { session, confirm: session },
    'patients.list': { query: 'q' },
    'patient.save': { patient: { id: 'MRN 12.3', age_group: 'child', sex: 'female', birth_year: 2019 } },
    'session.get': { session },
    'site.spectrogram': { session, site: 'AV' },
  }
  const all: Case[] = []
  const add = (what: string, command: string, params: unknown, message: RegExp) =>
    all.push({ what, command, params, message })
  for (const name of [...PROTOTYPE_NAMES, ...TRAVERSALS, '', 'rm -rf', 'Site.Spectrogram']) {
    add(`command ${name}`, name, {}, /^command ".*": unknown$/)
  }
  all.push({
    what: 'command 42',
    command: 42 as never,
    params: {},
    message: /^command: must be a string$/,
    serviceOnly: true,
  })
  for (const command of Object.keys(valid) as CommandName[]) {
    const params = valid[command] as Record<string, unknown>
    for (const notObject of ['x', 42, [], [params]]) {
      add(`${command} params ${JSON.stringify(notObject)}`, command, notObject, /^params: must be an object/)
    }
    for (const extra of [...PROTOTYPE_NAMES, 'extra', '../site']) {
      const withExtra = JSON.parse(JSON.stringify({ ...params, [extra]: 'x' })) as unknown // an own __proto__ key
      add(`${command} extra key ${extra}`, command, withExtra, new RegExp(`^${literal(extra)}: unknown parameter$`))
    }
    for (const key of Object.keys(params)) {
      const without = { ...params }
      delete without[key]
      if (!OPTIONAL_KEYS[command]?.includes(key)) {
        add(`${command} without ${key}`, command, without, new RegExp(`^${key}: missing$`))
      }
      const wrongs = WRONG_TYPES.filter((w) => typeof w !== typeof params[key] || typeof w === 'object')
      // null removes a finding: a value, not a wrong type
      for (const wrong of wrongs.filter((w) => !(w === null && key === 'finding'))) {
        add(`${command} ${key}=${JSON.stringify(wrong)}`, command, { ...params, [key]: wrong }, new RegExp(`^${key}`))
      }
    }
    if ('session' in params) {
      for (const bad of [...TRAVERSALS, ...PROTOTYPE_NAMES, '', `${session}/../..`, `${session}x`]) {
        add(`${command} session ${bad}`, command, { ...params, session: bad }, /^session: not a session id$/)
      }
    }
    if ('site' in params) {
      for (const bad of [...TRAVERSALS, ...PROTOTYPE_NAMES, 'av', '', 'AV ', 'AV.wav']) {
        add(`${command} site ${bad}`, command, { ...params, site: bad }, /^site: not one of AV, PV, TV, MV, Phc$/)
      }
    }
  }
  const records = (command: CommandName, what: string, params: Record<string, unknown>, message: RegExp) =>
    add(`${command} ${what}`, command, { ...(valid[command] as object), ...params }, message)
  records('patient.save', 'id with a slash', { patient: { id: '../x' } }, /^patient\.id: letters, digits/)
  records('patient.save', 'id empty', { patient: { id: '' } }, /^patient\.id: letters, digits/)
  records(
    'patient.save',
    'birth year 2019.5',
    { patient: { id: 'p', birth_year: 2019.5 } },
    /^patient\.birth_year: must be a whole/,
  )
  records(
    'patient.save',
    'age group baby',
    { patient: { id: 'p', age_group: 'baby' } },
    /^patient\.age_group: not one of/,
  )
  records(
    'session.update',
    'grade 7',
    { finding: { murmur: 'yes', grade: 7 } },
    /^finding\.grade: must be between 1 and 6/,
  )
  records('session.update', 'murmur maybe', { finding: { murmur: 'maybe' } }, /^finding\.murmur: not one of/)
  records(
    'session.update',
    'site XX',
    { site_findings: [{ site: 'XX', finding: null }] },
    /^site_findings\[0\]\.site: not one of/,
  )
  records('session.update', 'site_findings not a list', { site_findings: {} }, /^site_findings: must be an array/)
  records('sessions.list', 'verdict bad', { verdict: 'bad' }, /^verdict: not one of/)
  records('sessions.list', 'from yesterday', { from: 'yesterday' }, /^from: not an ISO 8601 date$/)
  records(
    'session.delete',
    'confirm another id',
    { confirm: '20990101-000000-zzzz' },
    /^confirm: must repeat the session id/,
  )
  const start = (what: string, params: Record<string, unknown>, message: RegExp) =>
    add(`session.start ${what}`, 'session.start', { source: { kind: 'file', speed: 0 }, ...params }, message)
  start('patient too long', { patient: 'x'.repeat(201) }, /^patient: longer than 200 characters$/)
  start('patient with NUL', { patient: 'a\u0000b' }, /^patient: contains control characters$/)
  for (const hop of [0, -1, 0.01, 61, 1e9]) start(`hop_s ${hop}`, { hop_s: hop }, /^hop_s: must be between/)
  const source = (what: string, spec: unknown, message: RegExp) => start(what, { source: spec }, message)
  for (const kind of [...PROTOTYPE_NAMES, 'File', '../file', 42]) {
    source(`source.kind ${kind}`, { kind }, /^source\.kind: not one of device, file, browser$/)
  }
  source('source without kind', { path: SAMPLE_RECORDING }, /^source\.kind: not one of/)
  source('source a string', SAMPLE_RECORDING, /^source: must be an object, not a string$/)
  source('device missing', { kind: 'device' }, /^source\.device: missing$/)
  source('device empty', { kind: 'device', device: ' ' }, /^source\.device: must not be empty$/)
  source('device too long', { kind: 'device', device: 'x'.repeat(257) }, /^source\.device: longer than 256/)
  source('device extra key', { kind: 'device', device: 'default', path: '/x' }, /^source\.path: unknown parameter$/)
  source('path a number', { kind: 'file', path: 42 }, /^source\.path: must be a string, not a number$/)
  source('path empty', { kind: 'file', path: '' }, /^source\.path: must not be empty$/)
  source('path with NUL', { kind: 'file', path: `${SAMPLE_RECORDING}\u0000.txt` }, /^source\.path: contains control/)
  source('path too long', { kind: 'file', path: '/a'.repeat(2049) }, /^source\.path: longer than 4096/)
  for (const speed of [-1, 65, 1e9]) {
    source(`speed ${speed}`, { kind: 'file', speed }, /^source\.speed: must be between 0 and 64/)
  }
  source('speed a string', { kind: 'file', speed: '1' }, /^source\.speed: must be a number, not a string$/)
  for (const sampleRate of [0, 3999, 192001, -44100]) {
    source(`sampleRate ${sampleRate}`, { kind: 'browser', sampleRate }, /^source\.sampleRate: must be between 4000/)
  }
  source('sampleRate missing', { kind: 'browser' }, /^source\.sampleRate: missing$/)
  return all
}

const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe('every command is checked against the contract at the boundary', () => {
  let runtime: ModelRuntime
  let service: SessionService
  let session: string
  let server: RunningServer
  let wsUrl: string
  beforeAll(async () => {
    runtime = await inProcessRuntime(tinyModel())
    const store = new SessionStore(mkdtempSync(join(tmpdir(), 'phonoscope-contract-')))
    const backEnd = composeBackEnd(store, runtime, { fileRoots: [outside.dir] })
    service = backEnd.service
    session = (await service.call('session.start', { source: { kind: 'file', speed: 0 } })).id
    server = await serve({ api: backEnd.api, host: '127.0.0.1', port: 0, staticDir: RENDERER_DIR })
    wsUrl = socketUrl(server.url, await pageSecret(server.url))
  })
  afterAll(async () => {
    await service?.close()
    await server?.close()
  })

  it('refuses each bad call through SessionService.call with a one-line InputError naming the parameter, and does nothing', async () => {
    const all = cases(session)
    const wrong: string[] = []
    for (const c of all) {
      const error = await service.call(c.command as never, c.params as never).then(
        () => undefined,
        (e: unknown) => e,
      )
      if (!(error instanceof InputError) || !c.message.test(error.message) || error.message.includes('\n')) {
        wrong.push(`${c.what}: ${error instanceof Error ? `${error.name} ${error.message}` : 'answered'}`)
      }
    }
    expect(wrong).toEqual([])
    const tried = new Map<string, number>()
    for (const c of all) tried.set(c.command, (tried.get(c.command) ?? 0) + 1)
    expect([...tried.values()].filter((n) => n >= 10)).toHaveLength(Object.keys(COMMAND_SCHEMAS).length) // every command, many ways
    expect((await service.call('sessions.list', {})).map((s) => s.id)).toEqual([session]) // no session.start passed

    // what the contract allows still passes: optional keys absent or undefined, no params where none are taken
    await service.call('session.stop', { session }) // one examination at a time
    const started = await service.call('session.start', {
      patient: undefined,
      source: { kind: 'file', path: undefined, speed: 64 },
      hop_s: 0.25,
    })
    expect(started.patient).toBe('')
    expect(await service.call('sessions.list', undefined as never)).toHaveLength(2)
  })

  it('refuses the same calls over the WebSocket with the same messages, and keeps serving', async () => {
    const c = await client(wsUrl, { Origin: new URL(server.url).origin })
    const wrong: string[] = []
    for (const bad of cases(session).filter((c) => !c.serviceOnly)) {
      const reply = await c.call(bad.command, bad.params)
      const message = 'error' in reply ? reply.error.message : undefined
      if (message === undefined || !bad.message.test(message)) wrong.push(`${bad.what}: ${message ?? 'answered'}`)
    }
    expect(wrong).toEqual([])
    expect(await c.call('session.get', { session })).toMatchObject({ result: { id: session } })
    c.ws.close()
  })

  it("never reads a WAV outside the store through site.spectrogram's site (the reported traversal)", async () => {
    const site = relative(dirname(service.store.sitePath(session, 'AV')), outsideWav).replace(/\.wav$/, '')
    await expect(service.call('site.spectrogram', { session, site } as never)).rejects.toThrow(/^site: not one of/)
    const c = await client(wsUrl, { Origin: new URL(server.url).origin })
    expect(await c.call('site.spectrogram', { session, site })).toMatchObject({
      error: { message: expect.stringMatching(/^site: not one of/) },
    })
    c.ws.close()
  })
})

describe('a file source reads only what the service may read', () => {
  let runtime: ModelRuntime
  const picked = outside.put('picked.wav', wavBytes({ samples: sine(100, 1, 4000) }))
  const other = outside.put('other.wav', wavBytes({ samples: sine(100, 1, 4000) }))
  beforeAll(async () => {
    runtime = await inProcessRuntime(tinyModel())
  })
  const serviceWith = (options: ConstructorParameters<typeof SessionService>[2]) =>
    new SessionService(new SessionStore(mkdtempSync(join(tmpdir(), 'phonoscope-files-'))), runtime, options)
  /** a session from the file, stopped at once (one examination at a time) */
  const startFrom = async (service: SessionService, path?: string) => {
    const { id } = await service.call('session.start', { source: { kind: 'file', path, speed: 0 } })
    return service.call('session.stop', { session: id })
  }

  it('Electron: the sample and the files the user picked; server: files under its roots; CLI: any file', async () => {
    const pickedFiles = new Set([picked])
    const electron = serviceWith({ allowedFiles: pickedFiles })
    await expect(startFrom(electron)).resolves.toHaveProperty('id')
    await expect(startFrom(electron, SAMPLE_RECORDING)).resolves.toHaveProperty('id')
    await expect(startFrom(electron, picked)).resolves.toHaveProperty('id')
    await expect(startFrom(electron, `${outside.dir}/./x/../picked.wav`)).resolves.toHaveProperty('id')
    for (const path of [other, outsideWav, '/etc/passwd', `${picked}.bak`, outside.dir, relative('.', other)]) {
      await expect(startFrom(electron, path)).rejects.toThrow(new InputError(path, 'not a file you picked'))
    }
    pickedFiles.add(other) // picked later: the service sees the set grow
    await expect(startFrom(electron, other)).resolves.toHaveProperty('id')

    const server = serviceWith({ fileRoots: [outside.dir] })
    await expect(startFrom(server)).resolves.toHaveProperty('id')
    await expect(startFrom(server, other)).resolves.toHaveProperty('id')
    for (const path of [`${outside.dir}-evil/x.wav`, join(outside.dir, '..', 'x.wav'), outside.dir, '/etc/passwd']) {
      await expect(startFrom(server, path)).rejects.toThrow(/outside the folders this server may read$/)
    }

    await expect(startFrom(serviceWith({}), other)).resolves.toHaveProperty('id')
  })
})
