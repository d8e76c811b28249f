import { beforeAll, describe, expect, it } from 'vitest'
import { InputError } from '../../src/core/errors'
import {
  openSession,
  openWithFallback,
  parseProvider,
  providerCandidates,
  type ProviderEnvironment,
} from '../../src/core/model/providers'
import { tinyModel } from './model-fixture'

const env = (
  platform: NodeJS.Platform,
  backends: [string, boolean][],
  libraries: string[] = [],
): ProviderEnvironment => ({
  platform,
  backends: backends.map(([name, bundled]) => ({ name, bundled })),
  libraryPresent: (p) => libraries.includes(p),
})

describe('execution provider selection', () => {
  const linux = env('linux', [
    ['cpu', true],
    ['webgpu', true],
    ['cuda', false],
  ])
  it('auto: CUDA on Linux only when its library is installed, else cpu', () => {
    expect(providerCandidates('auto', linux)).toEqual(['cpu'])
    expect(
      providerCandidates(
        'auto',
        env(
          'linux',
          [
            ['cpu', true],
            ['cuda', false],
          ],
          ['cuda'],
        ),
      ),
    ).toEqual(['cuda', 'cpu'])
  })
  it('auto: DirectML on Windows, CoreML on macOS, when the build has them', () => {
    expect(
      providerCandidates(
        'auto',
        env('win32', [
          ['cpu', true],
          ['dml', true],
        ]),
      ),
    ).toEqual(['dml', 'cpu'])
    expect(
      providerCandidates(
        'auto',
        env('darwin', [
          ['cpu', true],
          ['coreml', true],
        ]),
      ),
    ).toEqual(['coreml', 'cpu'])
    expect(providerCandidates('auto', env('darwin', [['cpu', true]]))).toEqual(['cpu'])
    expect(providerCandidates('auto', env('freebsd', [['cpu', true]]))).toEqual(['cpu'])
  })
  it('an explicit request is tried first, cpu stays the fallback', () => {
    expect(providerCandidates('webgpu', linux)).toEqual(['webgpu', 'cpu'])
    expect(providerCandidates('cuda', linux)).toEqual(['cuda', 'cpu'])
    expect(providerCandidates('cpu', linux)).toEqual(['cpu'])
  })
  it('--provider values are checked', () => {
    expect(parseProvider(undefined)).toBe('auto')
    expect(parseProvider('dml')).toBe('dml')
    expect(() => parseProvider('tpu')).toThrow(InputError)
  })
  it('falls back to the next provider when one fails to load, and says why', async () => {
    const tried: string[] = []
    const fake = { release: async () => {} } as never
    const opened = await openWithFallback(
      ['cuda', 'cpu'],
      async (p) => {
        tried.push(p)
        if (p === 'cuda') throw new Error('Failed to load shared library\nsecond line')
        return fake
      },
      'm.onnx',
    )
    expect(tried).toEqual(['cuda', 'cpu'])
    expect(opened.provider).toBe('cpu')
    expect(opened.note).toBe('cpu (cuda failed to load: Failed to load shared library; fell back to cpu)')
  })
  it('a model even cpu cannot load is bad input', async () => {
    await expect(
      openWithFallback(['cpu'], () => Promise.reject(new Error('protobuf parsing failed')), 'x.onnx'),
    ).rejects.toThrow(/x.onnx: not a usable ONNX model \(protobuf parsing failed\)/)
  })
})

describe('real onnxruntime-node on this machine', () => {
  let model: string
  beforeAll(() => void (model = tinyModel()), 180_000)

  it('requesting cuda where it is not installed runs on cpu and says so', async () => {
    const opened = await openSession(() => model, { provider: 'cuda', threads: 1 })
    expect(opened.provider).toBe('cpu')
    expect(opened.note).toMatch(/^cpu \(cuda failed to load: .+; fell back to cpu\)$/)
    expect(opened.threads).toBe(1)
    await opened.session.release()
  })
  it('auto picks cpu here with the default of at most 2 threads', async () => {
    const opened = await openSession(() => model)
    expect(opened.provider).toBe('cpu')
    expect(opened.threads).toBeGreaterThanOrEqual(1)
    expect(opened.threads).toBeLessThanOrEqual(2)
    await opened.session.release()
  })
})
