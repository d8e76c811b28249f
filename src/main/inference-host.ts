// The inference host of the app: an Electron utilityProcess started by the main process (src/main/index.ts). It holds
// the one long-lived onnxruntime-node session and runs window inference off the main thread, speaking the protocol
// of src/core/api/inference.ts (the same one the CLI's child-process host speaks). The CPU memory arena is off here,
// so memory goes back to the system between analyses in a long-running desktop app, and idle onnxruntime threads do
// not busy-wait (the live front end and the UI need the other core).
import type { HostMessage, HostRequest } from '../core/api/inference'
import { serveInference } from '../core/model/host'

const port = process.parentPort

serveInference(
  {
    post: (message: HostMessage) => port.postMessage(message),
    onMessage: (handler) => port.on('message', ({ data }: { data: HostRequest }) => handler(data)),
  },
  { cpuMemArena: false, spinning: false },
)
