import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { dataRoot } from '../../core/data'
import { InputError } from '../../core/errors'
import { appRoot } from '../../core/paths'
import { serve } from '../../server/server'
import { runCommand } from '../run'
import { startCliBackEnd, STORE_OPTION, type SessionCliOptions } from '../back-end'
import { inferenceOptions } from '../inference'
import { positiveInt } from '../options'

export function registerServe(program: Command): void {
  inferenceOptions(
    program
      .command('serve')
      .description('serve the app to a browser: the UI plus its API over HTTP + WebSocket')
      .option('--port <n>', 'port (0: any free one)', '8480')
      .option('--host <address>', 'address to listen on; anything but loopback requires the printed token', '127.0.0.1')
      .option(...STORE_OPTION)
      .option('--hop <seconds>', 'seconds between live verdicts', '3'),
  ).action((options: SessionCliOptions & { port: string; host: string }) =>
    runCommand(async () => {
      const staticDir = join(appRoot(), 'out', 'renderer')
      if (!existsSync(join(staticDir, 'index.html'))) {
        throw new InputError(staticDir, 'the UI is not built: run `npm run build` first')
      }
      const port = options.port === '0' ? 0 : positiveInt(options.port, '--port')!
      // a browser may replay files from the corpus and the bundled samples, nothing else on this machine
      const backEnd = await startCliBackEnd(options, [dataRoot(), join(appRoot(), 'resources')])
      const server = await serve({ api: backEnd.api, host: options.host, port, staticDir })
      const address = server.token ? `${server.url}?token=${server.token}` : server.url
      process.stdout.write(`Phonoscope is serving at ${address}\n`)
      if (server.token) process.stdout.write('(the token is printed once; it is required on every request)\n')
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve())
      })
      await backEnd.close()
      await server.close()
    }),
  )
}
