/** The verdict classes, in the order every model outputs them (after Ren et al. 2022: normal / mild / moderate-severe). */
export const CLASSES = ['normal', 'mild', 'moderate_severe'] as const
export type ClassName = (typeof CLASSES)[number]
export type Probabilities = Record<ClassName, number>

export const CLASS_LABELS: Record<ClassName, string> = {
  normal: 'Normal',
  mild: 'Mild',
  moderate_severe: 'Moderate-Severe',
}
