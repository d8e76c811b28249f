import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** How long a daemon may take to answer: a busy machine has taken over 10 s. */
const READY_TIMEOUT_MS = 30_000

/**
 * A PulseAudio daemon of the tests' own, in a private runtime dir (XDG_RUNTIME_DIR, socket, pid and state): one
 * already running for the user (a desktop's, or another test run's) is neither used nor disturbed, and cannot make
 * the start fail. While it runs, PULSE_SERVER points this process and its children (sox, pactl, paplay) at it.
 */
export class PulseDaemon {
  private constructor(
    private readonly dir: string,
    private readonly daemon: ChildProcess,
    private readonly previousServer: string | undefined,
  ) {}

  get server(): string {
    return `unix:${join(this.dir, 'native')}`
  }

  static async start(timeoutMs = READY_TIMEOUT_MS): Promise<PulseDaemon> {
    const dir = mkdtempSync(join(tmpdir(), 'phonoscope-pulse-'))
    const log = join(dir, 'daemon.log')
    const env = { ...process.env, XDG_RUNTIME_DIR: dir, PULSE_RUNTIME_PATH: dir, PULSE_STATE_PATH: dir }
    // -n: none of the desktop's modules (D-Bus, X11, ...), only the socket; idle a minute (no client), it exits, so
    // that a test worker that died leaves no daemon behind. A high-quality resampler for the 4 kHz
    // test files played into a 44.1/48 kHz sink, so that what is captured is what was played (PulseAudio's default,
    // speex-float-1, is tuned for speed). As root it warns, and works.
    const args = [
      '-n',
      '--daemonize=no',
      '--exit-idle-time=60',
      '--resample-method=soxr-vhq',
      `--log-target=file:${log}`,
    ]
    args.push(`--load=module-native-protocol-unix socket=${join(dir, 'native')} auth-anonymous=1`)
    const daemon = spawn('pulseaudio', args, { env, stdio: 'ignore' })
    const pulse = new PulseDaemon(dir, daemon, process.env['PULSE_SERVER'])
    let exited: string | undefined
    daemon.once('error', (error) => (exited = error.message))
    daemon.once('exit', (code, signal) => (exited = `exited (${signal ?? code})`))
    const deadline = Date.now() + timeoutMs
    while (!pulse.answers()) {
      if (exited !== undefined || Date.now() > deadline) {
        await pulse.stop()
        const why = exited ?? `no answer in ${timeoutMs / 1000} s`
        throw new Error(`test PulseAudio daemon ${why}: ${lastLines(log)}`)
      }
      await sleep(100)
    }
    process.env['PULSE_SERVER'] = pulse.server
    return pulse
  }

  private answers(): boolean {
    try {
      execFileSync('pactl', ['--server', this.server, 'info'], { stdio: 'ignore', timeout: 5000 })
      return true
    } catch {
      return false
    }
  }

  async stop(): Promise<void> {
    if (this.previousServer === undefined) delete process.env['PULSE_SERVER']
    else process.env['PULSE_SERVER'] = this.previousServer
    if (this.daemon.exitCode === null && this.daemon.signalCode === null && this.daemon.pid !== undefined) {
      const exited = new Promise((resolve) => this.daemon.once('exit', resolve))
      this.daemon.kill()
      await exited // it writes in its runtime dir as it exits
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

function lastLines(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-3).join(' | ') || 'no log'
  } catch {
    return 'no log'
  }
}

/**
 * A real PulseAudio null sink to play heart sounds into and capture from (its .monitor source), standing in for a
 * stethoscope, on the daemon PULSE_SERVER names (PulseDaemon.start).
 */
export class NullSink {
  private module: string | undefined

  constructor(readonly name: string) {}

  get monitor(): string {
    return `${this.name}.monitor`
  }

  load(): this {
    this.module = execFileSync('pactl', ['load-module', 'module-null-sink', `sink_name=${this.name}`], {
      encoding: 'utf8',
    }).trim()
    return this
  }

  /** Removes the sink: for a capture of its monitor, the device is unplugged. */
  unload(): void {
    if (this.module) execFileSync('pactl', ['unload-module', this.module])
    this.module = undefined
  }

  play(wav: string): ChildProcess {
    return spawn('paplay', ['-d', this.name, '--latency-msec=500', wav], { stdio: 'ignore' })
  }
}
