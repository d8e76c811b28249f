/**
 * Classification metrics with the conventions of training/phonoscope_training/metrics.py: confusion[i][j] =
 * count(true i, predicted j); a class absent from the truth has recall NaN and is left out of the UAR; precision of a
 * never-predicted class is NaN; one-vs-rest ROC AUC by the Mann-Whitney statistic with ties counting 1/2.
 */
export function confusion(truth: number[], predicted: number[], k: number): number[][] {
  const cm = Array.from({ length: k }, () => new Array<number>(k).fill(0))
  truth.forEach((t, i) => cm[t]![predicted[i]!]!++)
  return cm
}

export function recalls(cm: number[][]): number[] {
  return cm.map((row, i) => {
    const support = row.reduce((a, b) => a + b, 0)
    return support > 0 ? row[i]! / support : NaN
  })
}

export function precisions(cm: number[][]): number[] {
  return cm.map((_, j) => {
    const predicted = cm.reduce((a, row) => a + row[j]!, 0)
    return predicted > 0 ? cm[j]![j]! / predicted : NaN
  })
}

/** Mean of the non-NaN values (NaN when there are none). */
export function nanMean(values: number[]): number {
  const ok = values.filter((v) => !Number.isNaN(v))
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN
}

/** The q-quantile (0..1) of the values, nearest rank below (NaN when there are none): benchmarks' median and p95. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
}

/** Average ranks, 1-based, ties sharing their mean rank (scipy.stats.rankdata). */
export function averageRanks(scores: number[]): number[] {
  const order = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!)
  const ranks = new Array<number>(scores.length)
  for (let i = 0; i < order.length;) {
    let j = i
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++
    const rank = (i + j + 2) / 2
    for (let m = i; m <= j; m++) ranks[order[m]!] = rank
    i = j + 1
  }
  return ranks
}

export function binaryAuc(positive: boolean[], scores: number[]): number {
  const nPos = positive.filter(Boolean).length
  const nNeg = positive.length - nPos
  if (nPos === 0 || nNeg === 0) return NaN
  const ranks = averageRanks(scores)
  const sum = ranks.reduce((a, r, i) => (positive[i] ? a + r : a), 0)
  return (sum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg)
}

export interface LevelMetrics {
  n: number
  uar: number
  recall: number[]
  precision: number[]
  confusion: number[][]
  auc: number[]
  accuracy: number
}

/** Metrics of argmax predictions of `probs` against class indices `truth`. */
export function summarize(truth: number[], probs: number[][], k: number): LevelMetrics {
  const predicted = probs.map((p) => p.indexOf(Math.max(...p)))
  const cm = confusion(truth, predicted, k)
  const r = recalls(cm)
  return {
    n: truth.length,
    uar: nanMean(r),
    recall: r,
    precision: precisions(cm),
    confusion: cm,
    auc: Array.from({ length: k }, (_, c) =>
      binaryAuc(
        truth.map((t) => t === c),
        probs.map((p) => p[c]!),
      ),
    ),
    accuracy: truth.length ? predicted.filter((p, i) => p === truth[i]).length / truth.length : NaN,
  }
}
