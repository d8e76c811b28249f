// The inference host as a Node child process (the CLI and the server fork it; see client.ts). It speaks the protocol
// of src/core/api/inference.ts over the IPC channel and exits when its parent goes away.
import type { HostMessage, HostRequest } from '../api/inference'
import { serveInference } from './host'

if (!process.send) throw new Error('host-process.ts must be started with an IPC channel (child_process.fork)')
const send = process.send.bind(process)

serveInference({
  post: (message: HostMessage) => void send(message),
  onMessage: (handler) => process.on('message', (message) => handler(message as HostRequest)),
})
process.on('disconnect', () => process.exit(0))
