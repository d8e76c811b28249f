import { SESSION_ID } from '../../src/core/api/app'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { audioInfo } from '../../src/core/audio/decode'
import { appUnderTest, canvasSummary, chromiumAvailable } from '../helpers/browser'
import { REPO_ROOT } from '../helpers/paths'

// Chromium's fake capture device plays a WAV file as the microphone: the sample, at 48 kHz as a sound card gives it
const micWav = join(mkdtempSync(join(tmpdir(), 'phonoscope-mic-')), 'mic.wav')
execFileSync('sox', [join(REPO_ROOT, 'resources', 'samples', '49628_TV.flac'), '-r', '48000', '-b', '16', micWav])

describe.skipIf(!chromiumAvailable())("the browser's microphone as the stethoscope (server mode)", () => {
  const app = appUnderTest(['--hop', '2'], undefined, [
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${micWav}`,
  ])

  it('streams the microphone through an AudioWorklet to the server, which records and grades it', async () => {
    const { page } = app
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(app.server.url)
    await page.waitForSelector('[data-testid=device-picker] option[value=browser-microphone]', { state: 'attached' })
    await page.selectOption('[data-testid=device-picker]', 'browser-microphone')
    await page.click('[data-testid=start-session]')

    await expect.poll(() => page.getAttribute('[data-testid=site-AV]', 'data-status')).toBe('recording')
    // sound arrives: the level meter reads, the spectrogram fills, a provisional verdict comes
    const painted = async () => (await canvasSummary(page, 'live-spectrogram')).checksum
    const first = await painted()
    await expect.poll(() => page.getAttribute('[data-testid=verdict-site]', 'data-state')).toBe('provisional')
    expect(await painted()).not.toBe(first)
    await page.waitForTimeout(3000)
    expect(await page.isVisible('[data-testid=error]')).toBe(false) // every PCM frame was taken
    await page.click('[data-testid=site-primary]') // stop AV
    await expect.poll(() => page.getAttribute('[data-testid=site-AV]', 'data-status')).toBe('done')

    // the session holds the microphone's sound at the AudioContext's rate, several seconds of it
    // app.sessions is the store's home: the audio lies in its sessions/ folder, beside the database
    const audio = join(app.sessions, 'sessions')
    const [session] = readdirSync(audio).filter((name) => SESSION_ID.test(name))
    const info = await audioInfo(join(audio, session!, 'AV.wav'))
    expect(info.sampleRate).toBeGreaterThanOrEqual(44100)
    expect(info.frames! / info.sampleRate).toBeGreaterThan(4)
    expect(errors).toEqual([])
  })
})
