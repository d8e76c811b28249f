/**
 * The last `capacity` samples of a stream, by their absolute index: the live gate reads the 4 kHz samples of the
 * window it grades without the analyzer keeping the whole site in memory.
 */
export class SampleRing {
  private readonly data: Float32Array
  /** samples pushed so far: the absolute index of the next one */
  private seen = 0

  constructor(readonly capacity: number) {
    this.data = new Float32Array(capacity)
  }

  push(samples: ArrayLike<number>): void {
    const n = samples.length
    const skip = Math.max(0, n - this.capacity) // a chunk longer than the ring: only its tail is kept
    for (let i = skip; i < n; i++) this.data[(this.seen + i) % this.capacity] = samples[i]!
    this.seen += n
  }

  /** A copy of samples [from, to) (absolute indices); throws when they are no longer (or not yet) held. */
  slice(from: number, to: number): Float32Array {
    if (from < this.seen - this.capacity || to > this.seen || from > to) {
      throw new RangeError(`samples ${from}-${to} are not in the ring (${this.seen - this.capacity}-${this.seen})`)
    }
    const out = new Float32Array(to - from)
    for (let i = from; i < to; i++) out[i - from] = this.data[i % this.capacity]!
    return out
  }
}
