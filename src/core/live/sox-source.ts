import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import recorder from 'node-record-lpcm16'
import type { DeviceInfo } from '../api/app'
import type { Samples } from '../audio/types'
import { DeviceLostError, type AudioSource } from './source'

const run = promisify(execFile)

/** The rate sox is asked for; most USB stethoscopes and sound cards run at 44.1 or 48 kHz natively. */
export const DEFAULT_CAPTURE_RATE = 44100
/** How often a PulseAudio device is checked for removal (PulseAudio moves a removed source's streams elsewhere). */
const PRESENCE_CHECK_MS = 500

async function pulseSources(): Promise<string[]> {
  const { stdout } = await run('pactl', ['list', 'short', 'sources'], { timeout: 3000 })
  return stdout
    .trim()
    .split('\n')
    .map((line) => line.split('\t')[1])
    .filter((name): name is string => Boolean(name))
}

/**
 * Capture devices by name. With PulseAudio (the usual Linux desktop) they are its sources, monitors of outputs
 * included; elsewhere ALSA's PCM names; and always sox's default device.
 */
export async function listCaptureDevices(): Promise<DeviceInfo[]> {
  const devices: DeviceInfo[] = [{ id: 'default', label: 'System default input', kind: 'capture' }]
  try {
    for (const name of await pulseSources()) devices.push({ id: name, label: name, kind: 'capture' })
  } catch {
    // no PulseAudio: only the default device is offered
  }
  return devices
}

/**
 * A stethoscope through sox (node-record-lpcm16), 16-bit mono at `rate`. The device is chosen by name through
 * AUDIODEV, which is how sox selects inputs on Linux; with PulseAudio running, sox's pulseaudio driver is used with
 * a 100 ms buffer: chunks arrive ten times a second, and a busy machine loses nothing (at 30 ms, the captured sound
 * had gaps while both cores were loaded; at 100 ms it matched the source at r >= 0.98 in every 3 s segment). When
 * sox dies, its stream ends without stop(), or (PulseAudio) the named source disappears, the device is gone:
 * chunks() throws DeviceLostError.
 */
export function soxSource(device: string, rate = DEFAULT_CAPTURE_RATE): AudioSource {
  let recording: ReturnType<typeof recorder.record> | undefined
  let stopped = false
  return {
    label: `device ${device}`,
    sampleRate: rate,
    stop() {
      stopped = true
      recording?.stop()
    },
    async *chunks(): AsyncGenerator<Samples> {
      // node-record-lpcm16 copies process.env into sox's environment; these two only concern sox
      const pulse = await pulseAudioRunning()
      if (process.env.AUDIODRIVER === undefined && pulse) process.env.AUDIODRIVER = 'pulseaudio'
      process.env.PULSE_LATENCY_MSEC ??= '100'
      const watched = pulse && device !== 'default'
      // PulseAudio would quietly move the capture to another input when this one is removed: watch it instead
      if (watched && !(await pulseSources()).includes(device)) throw new DeviceLostError(`${device}: no such input`)
      let vanished = false
      const watch = watched
        ? setInterval(() => {
            pulseSources()
              .then((names) => {
                if (!names.includes(device)) {
                  vanished = true
                  recording?.stop()
                }
              })
              .catch(() => undefined)
          }, PRESENCE_CHECK_MS)
        : undefined
      recording = recorder.record({
        sampleRate: rate,
        channels: 1,
        audioType: 'raw',
        recorder: 'sox',
        device: device === 'default' ? undefined : device,
      })
      let odd: number | undefined // a sample split across two reads
      try {
        for await (const buf of recording.stream() as AsyncIterable<Buffer>) {
          const bytes = odd === undefined ? buf : Buffer.concat([Buffer.from([odd]), buf])
          const n = bytes.length >> 1
          odd = bytes.length & 1 ? bytes[bytes.length - 1] : undefined
          const out = new Float64Array(n)
          for (let i = 0; i < n; i++) out[i] = bytes.readInt16LE(2 * i) / 32768
          if (n > 0) yield out
        }
      } catch (error) {
        if (!stopped) throw new DeviceLostError(`${device}: capture stopped (${String(error).split('\n')[0]})`)
      } finally {
        clearInterval(watch)
      }
      if (vanished) throw new DeviceLostError(`${device}: the device was removed`)
      if (!stopped) throw new DeviceLostError(`${device}: the device stopped sending sound`)
    },
  }
}

async function pulseAudioRunning(): Promise<boolean> {
  try {
    await run('pactl', ['info'], { timeout: 2000 })
    return true
  } catch {
    return false
  }
}
