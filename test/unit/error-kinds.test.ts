import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BackEndApi } from '../../src/core/backend/back-end'
import { explain, fromWire, InputError, InternalError, toWire } from '../../src/core/errors'
import { serve, type RunningServer } from '../../src/server/server'
import { client, pageSecret, RENDERER_DIR, socketUrl, testBackEnd } from '../helpers/server'

const UNKNOWN = '20990101-000000-zzzz'

describe('an error keeps its kind across a transport', () => {
  it('round-trips a user error with its subject, problem and kind, and anything else as internal', () => {
    const rebuilt = fromWire(JSON.parse(JSON.stringify(toWire(new InputError('x.wav', 'not audio', 'input')))))
    expect(rebuilt).toBeInstanceOf(InputError)
    expect(rebuilt).toMatchObject({
      kind: 'input',
      subject: 'x.wav',
      problem: 'not audio',
      message: 'x.wav: not audio',
    })
    const crash = fromWire(toWire(new TypeError('undefined is not a function\n    at f (a.ts:1:1)')))
    expect(crash).toBeInstanceOf(InternalError)
    expect(crash.message).toBe('undefined is not a function') // no stack crosses
    expect(fromWire({ kind: 'nonsense' as never, message: 'm', subject: 's', problem: 'p' })).toBeInstanceOf(
      InternalError,
    )
  })

  it('words a user error as it is and marks anything else as Phonoscope’s', () => {
    expect(explain(new InputError('session x', 'not found', 'not_found'))).toBe('session x: not found')
    expect(explain(new RangeError('bad index'))).toMatch(/^Phonoscope failed: bad index \(not something you did/)
    expect(explain({ kind: 'storage', message: '/s: the disk is full' })).toBe('/s: the disk is full')
  })

  describe('over the server', () => {
    let api: BackEndApi
    let server: RunningServer
    let secret: string
    beforeAll(async () => {
      api = await testBackEnd()
      server = await serve({ api, host: '127.0.0.1', port: 0, staticDir: RENDERER_DIR })
      secret = await pageSecret(server.url)
    })
    afterAll(() => server?.close())

    it('answers a command on the WebSocket with the error’s kind', async () => {
      const c = await client(socketUrl(server.url, secret), { Origin: new URL(server.url).origin })
      const missing = await c.call('session.get', { session: UNKNOWN })
      expect(missing).toMatchObject({
        error: { kind: 'not_found', subject: `session ${UNKNOWN}`, problem: 'not found' },
      })
      const bad = await c.call('session.get', { session: '../x' })
      expect(bad).toMatchObject({ error: { kind: 'input', message: 'session: not a session id' } })
      c.ws.close()
    })

    it('refuses a bad artefact over HTTP with its status and the error as JSON', async () => {
      const get = (query: string) =>
        fetch(`${server.url}api/artefact?${query}`, { headers: { Authorization: `Bearer ${secret}` } })
      const cases: [string, number, string][] = [
        [`kind=wav&session=${UNKNOWN}&site=AV`, 404, 'not_found'],
        [`kind=wav&session=${UNKNOWN}&site=../AV`, 400, 'input'],
        [`kind=exe&session=${UNKNOWN}`, 400, 'input'],
        [`kind=wav&session=${UNKNOWN}&site=AV&extra=1`, 400, 'input'],
        [`kind=wav&kind=pdf&session=${UNKNOWN}&site=AV`, 400, 'input'],
        [`kind=bundle&session=${UNKNOWN}&deidentify=maybe`, 400, 'input'],
      ]
      for (const [query, status, kind] of cases) {
        const reply = await get(query)
        expect([query, reply.status]).toEqual([query, status])
        expect(((await reply.json()) as { kind: string }).kind).toBe(kind)
      }
    })
  })
})
