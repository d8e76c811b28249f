import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { NullSink, PulseDaemon } from '../helpers/pulse'

/** The capture fixture on a machine where a PulseAudio daemon already runs in the default runtime dir. */
describe('PulseDaemon beside a PulseAudio daemon already running', () => {
  // the "default" runtime dir is a temporary one, so that a developer's own desktop daemon is never touched
  const defaultDir = mkdtempSync(join(tmpdir(), 'phonoscope-default-runtime-'))
  const savedRuntimeDir = process.env['XDG_RUNTIME_DIR']
  const defaultEnv = { ...process.env, XDG_RUNTIME_DIR: defaultDir, PULSE_SERVER: undefined }
  const otherSinks = () =>
    execFileSync('pactl', ['list', 'short', 'sinks'], {
      env: defaultEnv,
      encoding: 'utf8',
      stdio: 'pipe',
      timeout: 5000,
    })
  let other: ChildProcess
  let pulse: PulseDaemon | undefined

  beforeAll(async () => {
    process.env['XDG_RUNTIME_DIR'] = defaultDir
    other = spawn('pulseaudio', ['--daemonize=no', '--exit-idle-time=-1'], { env: defaultEnv, stdio: 'ignore' })
    for (let tries = 0; ; tries++) {
      try {
        otherSinks()
        break
      } catch (error) {
        if (tries > 100) throw error
        await sleep(100)
      }
    }
  }, 30_000)
  afterEach(async () => {
    await pulse?.stop()
    pulse = undefined
    other.kill('SIGCONT')
  })
  afterAll(async () => {
    const exited = new Promise((resolve) => other.once('exit', resolve))
    other.kill()
    await exited
    rmSync(defaultDir, { recursive: true, force: true })
    if (savedRuntimeDir === undefined) delete process.env['XDG_RUNTIME_DIR']
    else process.env['XDG_RUNTIME_DIR'] = savedRuntimeDir
  })

  it('starts its own daemon, and its sink is not loaded into the other one', async () => {
    pulse = await PulseDaemon.start()
    const sink = new NullSink(`fixture_test_${process.pid}`).load()
    expect(execFileSync('pactl', ['list', 'short', 'sources'], { encoding: 'utf8' })).toContain(sink.monitor)
    expect(otherSinks()).not.toContain(sink.name)
  })

  it('works while the other daemon does not answer (stopped)', async () => {
    other.kill('SIGSTOP')
    pulse = await PulseDaemon.start()
    const sink = new NullSink(`fixture_test_${process.pid}`).load()
    expect(execFileSync('pactl', ['list', 'short', 'sources'], { encoding: 'utf8' })).toContain(sink.monitor)
  })

  it('fails in one clear line when the daemon cannot start, instead of waiting out a hook timeout', async () => {
    const path = process.env['PATH']
    process.env['PATH'] = mkdtempSync(join(tmpdir(), 'phonoscope-no-pulse-')) // no pulseaudio there
    try {
      await expect(PulseDaemon.start()).rejects.toThrow(/^test PulseAudio daemon spawn pulseaudio ENOENT/)
    } finally {
      process.env['PATH'] = path
    }
  })

  it('leaves PULSE_SERVER as it found it when stopped', async () => {
    const before = process.env['PULSE_SERVER']
    pulse = await PulseDaemon.start()
    expect(process.env['PULSE_SERVER']).toBe(pulse.server)
    await pulse.stop()
    pulse = undefined
    expect(process.env['PULSE_SERVER']).toBe(before)
  })
})
