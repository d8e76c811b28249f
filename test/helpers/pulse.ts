import { execFileSync, spawn, type ChildProcess } from 'node:child_process'

/**
 * A real PulseAudio null sink to play heart sounds into and capture from (its .monitor source), standing in for a
 * stethoscope. PulseAudio is started when it is not running (as root it warns, and works).
 */
export class NullSink {
  private module: string | undefined

  constructor(readonly name: string) {}

  get monitor(): string {
    return `${this.name}.monitor`
  }

  static ensureDaemon(): void {
    try {
      execFileSync('pactl', ['info'], { stdio: 'ignore', timeout: 5000 })
    } catch {
      // a high-quality resampler for the 4 kHz test files played into a 44.1/48 kHz sink, so that what is captured is
      // what was played (PulseAudio's default, speex-float-1, is tuned for speed)
      execFileSync('pulseaudio', ['-D', '--exit-idle-time=-1', '--resample-method=soxr-vhq'], {
        stdio: 'ignore',
        timeout: 10_000,
      })
      execFileSync('pactl', ['info'], { stdio: 'ignore', timeout: 5000 })
    }
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
