import { relative } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { phonoscope } from '../helpers/cli'
import { tinyModel } from './model-fixture'

let model: string
beforeAll(() => void (model = tinyModel()), 180_000)

describe('phonoscope bench', () => {
  it('runs the inference bench when no subcommand is given, with both thread counts', () => {
    // a path relative to where the user runs it, as typed (the Python side must see the same file)
    const run = phonoscope(
      'bench',
      '--model',
      relative(process.cwd(), model),
      '--no-evaluate',
      '--repeats',
      '2',
      '--rounds',
      '1',
      '--json',
    )
    expect(run.status, run.stderr).toBe(0)
    const r = JSON.parse(run.stdout)
    expect(r.per_window.map((p: { threads: number }) => p.threads)).toEqual([1, 2])
    for (const p of r.per_window) {
      expect(p.node_ms).toBeGreaterThan(0)
      expect(p.python_ms).toBeGreaterThan(0)
      expect(p.ratio_node_over_python).toBeCloseTo(p.node_ms / p.python_ms, 9)
    }
    expect(r.python_runtime).toMatch(/onnxruntime/)
    expect(r.cli_peak_rss_mb).toBeGreaterThan(10)
  })
  it('keeps `bench frontend` and lists `inference` as the default', () => {
    const help = phonoscope('bench', '--help')
    expect(help.stdout).toMatch(/inference/)
    expect(help.stdout).toMatch(/frontend/)
  })
})
