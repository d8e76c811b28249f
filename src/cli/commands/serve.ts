import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { dataRoot } from '../../core/data'
import { InputError } from '../../core/errors'
import { appRoot } from '../../core/paths'
import { SessionService } from '../../core/sessions/service'
import { defaultSessionsDir, SessionStore } from '../../core/sessions/store'
import { serve } from '../../server/server'
import { runCommand } from '../run'
import { positiveInt, startInference, type InferenceCliOptions } from './classify'

export interface SessionCliOptions extends InferenceCliOptions {
  sessions?: string
  hop?: string
}

/** The session service on the model's inference host, with interrupted sessions recovered first. */
export async function startService(options: SessionCliOptions, fileRoots?: string[]) {
  const { client, info } = await startInference(options)
  const store = new SessionStore(options.sessions ?? defaultSessionsDir())
  const recovered = await store.recover()
  for (const id of recovered) {
    process.stderr.write(
      `phonoscope: session ${id}: a recording whose process is gone is marked interrupted; its audio is kept\n`,
    )
  }
  const runtime = { inferer: client, card: info.card, name: info.name, sha256: info.sha256, provider: info.provider }
  const hopS = options.hop === undefined ? undefined : Number(options.hop)
  if (hopS !== undefined && !(hopS > 0))
    throw new InputError('--hop', `must be a positive number of seconds, not "${options.hop}"`)
  const service = new SessionService(store, runtime, { hopS, fileRoots })
  return { client, service, store }
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the app to a browser: the UI plus its API over HTTP + WebSocket')
    .option('--port <n>', 'port (0: any free one)', '8480')
    .option('--host <address>', 'address to listen on; anything but loopback requires the printed token', '127.0.0.1')
    .option('--sessions <dir>', 'where sessions are stored (default ~/.phonoscope/sessions)')
    .option('--hop <seconds>', 'seconds between live verdicts', '3')
    .option('--model <path>', 'ONNX model (default: the shipped one)')
    .option('--provider <name>', 'execution provider: auto, cpu, cuda, dml, coreml, webgpu', 'auto')
    .action((options: SessionCliOptions & { port: string; host: string }) =>
      runCommand(async () => {
        const staticDir = join(appRoot(), 'out', 'renderer')
        if (!existsSync(join(staticDir, 'index.html'))) {
          throw new InputError(staticDir, 'the UI is not built: run `npm run build` first')
        }
        const port = options.port === '0' ? 0 : positiveInt(options.port, '--port')!
        // a browser may replay files from the corpus and the bundled samples, nothing else on this machine
        const { client, service } = await startService(options, [dataRoot(), join(appRoot(), 'resources')])
        const server = await serve({ service, host: options.host, port, staticDir })
        const address = server.token ? `${server.url}?token=${server.token}` : server.url
        process.stdout.write(`Phonoscope is serving at ${address}\n`)
        if (server.token) process.stdout.write('(the token is printed once; it is required on every request)\n')
        await new Promise<void>((resolve) => {
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve())
        })
        await service.close()
        await server.close()
        await client.close()
      }),
    )
}
