/** Perceptually uniform colour maps (polynomial fits of matplotlib's viridis and inferno) as 256-entry RGB tables. */
type Poly = [number, number, number][]

const VIRIDIS: Poly = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
]

const INFERNO: Poly = [
  [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
  [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
  [11.60249308247187, -3.972853965665698, -15.9423941062914],
  [-41.70399613139459, 17.43639888205313, 44.35414519872813],
  [77.162935699427, -33.40235894210092, -81.80730925738993],
  [-71.31942824499214, 32.62606426397723, 73.20951985803202],
  [25.13112622477341, -12.24266895238567, -23.07032500287172],
]

function table(poly: Poly): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256 * 3)
  for (let i = 0; i < 256; i++) {
    const t = i / 255
    for (let c = 0; c < 3; c++) {
      let v = 0
      for (let k = poly.length - 1; k >= 0; k--) v = v * t + poly[k]![c]!
      lut[i * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255)
    }
  }
  return lut
}

export const viridis = table(VIRIDIS)
export const inferno = table(INFERNO)

/** CSS linear-gradient of a table, bottom (0) to top (1), for the colour scale legends. */
export function gradient(lut: Uint8ClampedArray, direction = 'to top'): string {
  const stops: string[] = []
  for (let i = 0; i <= 8; i++) {
    const k = Math.round((i / 8) * 255) * 3
    stops.push(`rgb(${lut[k]}, ${lut[k + 1]}, ${lut[k + 2]}) ${(i / 8) * 100}%`)
  }
  return `linear-gradient(${direction}, ${stops.join(', ')})`
}
