/**
 * Coalesces redraws: data arrives in bursts (columns ~10 times a second, more when a replay runs fast), but `draw` runs
 * at most once per display frame, in requestAnimationFrame, so a burst never costs more than one paint.
 */
export function frameScheduler(draw: () => void): { schedule(): void; cancel(): void } {
  let pending = 0
  return {
    schedule() {
      pending ||= requestAnimationFrame(() => {
        pending = 0
        draw()
      })
    },
    cancel() {
      cancelAnimationFrame(pending)
      pending = 0
    },
  }
}
