// The inference host: an Electron utilityProcess started by the main process (src/main/index.ts).
// It will own the one long-lived onnxruntime-node session (src/core/model) and run window inference
// off the main thread. For now it only answers the handshake, so main knows the process is up.

export type HostRequest = { type: 'hello' }
export type HostMessage = { type: 'ready'; pid: number }

const port = process.parentPort

port.on('message', ({ data }: { data: HostRequest }) => {
  if (data.type === 'hello') port.postMessage({ type: 'ready', pid: process.pid } satisfies HostMessage)
})
