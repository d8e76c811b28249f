import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IMPORT_PATH } from '../../src/core/api/wire'
import { IMPORT_LIMITS, type BackEndApi } from '../../src/core/backend/back-end'
import { serve, type RunningServer } from '../../src/server/server'
import { REPO_ROOT } from '../helpers/paths'
import { pageSecret, RENDERER_DIR, testBackEnd, type Reply } from '../helpers/server'

const SAMPLE = readFileSync(join(REPO_ROOT, 'resources', 'samples', '49628_TV.flac'))
const GARBAGE = Buffer.from('not a recording at all')

interface Upload {
  headers?: Record<string, string>
  /** the bytes sent; the request is left open (the server must answer without the rest) when `open` */
  body?: Buffer
  open?: boolean
  method?: string
}

/** One POST to the upload route with exactly these headers and body; an unfinished body is cut once answered. */
function upload(server: RunningServer, query: string, { headers = {}, body, open, method = 'POST' }: Upload) {
  return new Promise<Reply>((resolve, reject) => {
    const req = httpRequest(`${server.url.replace(/\/$/, '')}${IMPORT_PATH}?${query}`, { method, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => {
        resolve({ status: res.statusCode!, headers: res.headers, body: text })
        if (open) req.destroy()
      })
    })
    req.on('error', (error) => (open ? undefined : reject(error)))
    if (body) req.write(body)
    if (!open) req.end()
  })
}

const named = (...files: [string, number][]) =>
  files.map(([name, size]) => `name=${encodeURIComponent(name)}&size=${size}`).join('&')

describe('POST /api/import: uploads for import, refused unless they are plain, small, and from the page', () => {
  let api: BackEndApi
  let server: RunningServer
  let secret: string
  const uploads = mkdtempSync(join(tmpdir(), 'phonoscope-uploads-'))
  const bearer = () => ({ authorization: `Bearer ${secret}` })
  // what the back end left there (tsx, which runs the import's worker from the sources here, keeps its cache there)
  const leftOver = () => readdirSync(uploads).filter((name) => !name.startsWith('tsx-'))
  const nothingWritten = async () => {
    expect(leftOver()).toEqual([])
    expect(await api.call('sessions.list', {})).toEqual([])
  }
  beforeAll(async () => {
    api = await testBackEnd()
    server = await serve({ api, host: '127.0.0.1', port: 0, staticDir: RENDERER_DIR })
    secret = await pageSecret(server.url)
    process.env.TMPDIR = uploads // where the back end writes uploads (os.tmpdir), watched from here on
  })
  const outerTmp = process.env.TMPDIR
  afterAll(async () => {
    if (outerTmp === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = outerTmp
    await server?.close()
  })

  it('refuses a foreign Origin, a missing or wrong token, and any method but POST', async () => {
    const one = named(['49628_TV.flac', SAMPLE.length])
    const origin = `http://${new URL(server.url).host}`
    const foreign = await upload(server, one, { headers: { origin: 'http://evil.com', ...bearer() }, body: SAMPLE })
    expect(foreign.status).toBe(403)
    expect((await upload(server, one, { headers: { origin }, body: SAMPLE })).status).toBe(401)
    const wrong = { origin, authorization: 'Bearer wrong' }
    expect((await upload(server, one, { headers: wrong, body: SAMPLE })).status).toBe(401)
    expect((await upload(server, one, { headers: bearer(), method: 'GET' })).status).toBe(405)
    await nothingWritten()
  })

  it.each([
    ['a path', '../x.wav', /not a plain file name/],
    ['a folder', 'sub/x.wav', /not a plain file name/],
    ['a Windows path', 'C:\\x.wav', /not a plain file name/],
    ['a wrong extension', 'x.mp3', /want a \.wav, \.flac, \.phono file/],
    ['no name but the extension', '.wav', /want a \.wav/],
  ])('refuses %s as a name (%s), with a JSON error, before reading the body', async (_what, name, problem) => {
    const reply = await upload(server, named([name, GARBAGE.length]), { headers: bearer(), body: GARBAGE })
    expect(reply.status).toBe(400)
    expect(JSON.parse(reply.body)).toMatchObject({ kind: 'input', problem: expect.stringMatching(problem) })
    await nothingWritten()
  })

  it('refuses a file over the limit, a body longer than its files (413 at once) or shorter, without writing', async () => {
    const huge = await upload(server, named(['x.wav', IMPORT_LIMITS.maxFileBytes + 1]), { headers: bearer() })
    expect([huge.status, JSON.parse(huge.body).problem]).toEqual([400, 'larger than 1024 MiB'])

    const declared = { ...bearer(), 'content-length': String(IMPORT_LIMITS.maxTotalBytes + 1) }
    const long = await upload(server, named(['x.wav', 10]), { headers: declared, body: GARBAGE, open: true })
    expect([long.status, JSON.parse(long.body).kind]).toEqual([413, 'input'])
    // no Content-Length (chunked): refused as soon as the body passes the files' sizes
    const chunked = await upload(server, named(['x.wav', 10]), { headers: bearer(), body: GARBAGE, open: true })
    expect([chunked.status, JSON.parse(chunked.body).problem]).toEqual([
      413,
      'the body is larger than the files it names',
    ])

    const short = await upload(server, named(['x.wav', 100]), { headers: bearer(), body: GARBAGE })
    expect([short.status, JSON.parse(short.body).problem]).toEqual([400, 'the body is 22 bytes, the files 100'])
    const unpaired = await upload(server, 'name=x.wav', { headers: bearer(), body: GARBAGE })
    expect(unpaired.status).toBe(400)
    await nothingWritten()
  })

  it('imports what it takes, names each failed file as uploaded, and leaves no upload behind', async () => {
    const body = Buffer.concat([SAMPLE, GARBAGE])
    const query = named(['49628_TV.flac', SAMPLE.length], ['bad.wav', GARBAGE.length])
    const reply = await upload(server, query, { headers: bearer(), body })
    expect(reply.status, reply.body).toBe(200)
    const summary = JSON.parse(reply.body)
    expect(summary).toMatchObject({ patients: 1, exams: 1, recordings: 1, skipped: 0 })
    expect(summary.failed).toEqual([{ path: 'bad.wav', error: expect.stringMatching(/\S/) }])
    expect(summary.failed[0].error).not.toContain(uploads)
    const [exam] = await api.call('sessions.list', {})
    expect([exam?.patient, exam?.sites.map((s) => [s.site, s.imported_from])]).toEqual([
      '49628',
      [['TV', '49628_TV.flac']],
    ])
    expect(leftOver()).toEqual([])
  })
})

describe('importFiles: the contract checks the files whichever transport carried them', () => {
  let api: BackEndApi
  beforeAll(async () => void (api = await testBackEnd()))
  const bytes = new Uint8Array(4)

  it.each([
    ['a path', [{ name: '../x.wav', bytes }], /not a plain file name/],
    ['a NUL', [{ name: 'x\0.wav', bytes }], /not a plain file name/],
    ['a backslash', [{ name: 'a\\x.wav', bytes }], /not a plain file name/],
    ['a long name', [{ name: `${'a'.repeat(252)}.wav`, bytes }], /not a plain file name/],
    ['an extension', [{ name: 'x.txt', bytes }], /want a/],
    [
      'a name twice',
      [
        { name: 'x.wav', bytes },
        { name: 'X.WAV', bytes },
      ],
      /given twice/,
    ],
    ['no bytes', [{ name: 'x.wav', bytes: [1, 2] }], /want exactly \{name, bytes\}/],
    ['another key', [{ name: 'x.wav', bytes, path: '/etc/passwd' }], /want exactly \{name, bytes\}/],
    ['no file', [], /no file given/],
    ['too many', Array.from({ length: 65 }, (_, i) => ({ name: `${i}.wav`, bytes })), /at most 64 files/],
    ['not a list', { name: 'x.wav', bytes }, /want a list of files/],
  ])('refuses %s', async (_what, files, problem) => {
    await expect(api.importFiles(files as never)).rejects.toMatchObject({
      kind: 'input',
      problem: expect.stringMatching(problem),
    })
  })

  it('takes a name of 255 characters, in any case of its extension', async () => {
    const summary = await api.importFiles([{ name: `${'a'.repeat(251)}.WAV`, bytes }])
    expect(summary.failed.map((f) => f.path)).toEqual([`${'a'.repeat(251)}.WAV`])
  })
})
