import type { AgeGroup, Descriptors, Finding, SessionStatus, Sex, Site } from './app'
import type { ClassName } from './classes'
import { DESCRIPTOR_HEADS, type DescriptorName } from './model-card'

/**
 * The words a clinician reads beside a record or a verdict, written once: the app and the PDF report print the
 * same sentences (platform-free: the renderer imports them).
 */

export const CLASS_MEANING: Record<ClassName, string> = {
  normal: 'The model hears no murmur pattern in this sound.',
  mild: 'The model hears a soft murmur pattern (like a grade I–II/VI murmur).',
  moderate_severe: 'The model hears a loud murmur pattern (like a grade III/VI murmur or louder).',
}

export const DECISION_SUPPORT =
  'Decision support, not a diagnosis: a murmur grade from sound alone. Confirm by examination and, where ' +
  'indicated, echocardiography.'

export const AGE_LABELS: Record<AgeGroup, string> = {
  neonate: 'Neonate (under 28 days)',
  infant: 'Infant (28 days to 1 year)',
  child: 'Child (1 to 11 years)',
  adolescent: 'Adolescent (12 to 18 years)',
  young_adult: 'Young adult (19 to 21 years)',
  adult: 'Adult',
}

export const SEX_LABELS: Record<Sex, string> = { female: 'Female', male: 'Male', other: 'Other', unknown: 'Unknown' }

export const MURMUR_LABELS: Record<Finding['murmur'], string> = { yes: 'Heard', no: 'Not heard', unsure: 'Unsure' }

/** Levine's grades, as clinicians write them */
export const GRADES = ['I', 'II', 'III', 'IV', 'V', 'VI'] as const

/** The model is paediatric: what to tell whoever examines an older patient. */
export function ageWarning(age: AgeGroup | undefined): string | undefined {
  return age === 'adult' || age === 'young_adult'
    ? "The model was trained on children's recordings; its grade is less reliable for adults."
    : undefined
}

/** "Murmur heard, grade II/VI" */
export function findingText(finding: Finding): string {
  const grade = finding.grade ? `, grade ${GRADES[finding.grade - 1]}/VI` : ''
  return `Murmur ${MURMUR_LABELS[finding.murmur].toLowerCase()}${grade}`
}

export const SITE_NAMES: Record<Site, string> = {
  AV: 'Aortic',
  PV: 'Pulmonary',
  TV: 'Tricuspid',
  MV: 'Mitral',
  Phc: 'Other site',
}

export const SESSION_STATUS_LABELS: Record<SessionStatus, string> = {
  recording: 'Recording',
  complete: 'Complete',
  incomplete: 'Incomplete',
  interrupted: 'Interrupted',
}

/** What a site's murmur descriptors are: the model's, of the murmur it found, to weigh against what one hears. */
export const DESCRIPTORS_NOTE =
  'How the model describes the murmur it found at this site, each with its confidence: decision support from ' +
  'sound alone, to compare with what you hear, not a diagnosis.'

/** A descriptor whose most probable label is less probable than this is shown as uncertain. */
export const DESCRIPTOR_UNCERTAIN_BELOW = 0.5

/** Each descriptor head's name and labels in words ("Timing: holosystolic"), for every label a card may have. */
export const DESCRIPTOR_WORDS: {
  readonly [N in DescriptorName]: { head: string; labels: Record<(typeof DESCRIPTOR_HEADS)[N][number], string> }
} = {
  systolic_timing: {
    head: 'Timing',
    labels: {
      early_systolic: 'early systolic',
      mid_systolic: 'mid-systolic',
      late_systolic: 'late systolic',
      holosystolic: 'holosystolic',
    },
  },
  systolic_shape: {
    head: 'Shape',
    labels: { crescendo: 'crescendo', decrescendo: 'decrescendo', diamond: 'diamond', plateau: 'plateau' },
  },
  systolic_pitch: { head: 'Pitch', labels: { low: 'low', medium: 'medium', high: 'high' } },
  systolic_quality: { head: 'Quality', labels: { blowing: 'blowing', harsh: 'harsh', musical: 'musical' } },
  diastolic: { head: 'Diastolic murmur', labels: { no: 'no', yes: 'yes' } },
  audible_here: { head: 'Heard at this site', labels: { no: 'no', yes: 'yes' } },
}

export interface DescriptorLine {
  name: DescriptorName
  /** "Timing: holosystolic" */
  words: string
  /** the label's probability, as a whole percent: "72%" */
  confidence: string
  /** its probability is under DESCRIPTOR_UNCERTAIN_BELOW */
  uncertain: boolean
  /** all of it: "Timing: holosystolic (72%)", "Pitch: high (41%, uncertain)" */
  text: string
}

/** A site's descriptors in words with their confidence, in the order of DESCRIPTOR_HEADS. */
export function descriptorLines(descriptors: Descriptors): DescriptorLine[] {
  return (Object.keys(DESCRIPTOR_HEADS) as DescriptorName[]).flatMap((name) => {
    const descriptor = descriptors[name]
    if (!descriptor) return []
    const { head, labels } = DESCRIPTOR_WORDS[name]
    const label = (labels as Record<string, string>)[descriptor.label] ?? descriptor.label
    const p = descriptor.probabilities[descriptor.label] ?? 0
    const uncertain = p < DESCRIPTOR_UNCERTAIN_BELOW
    const confidence = `${Math.round(100 * p)}%`
    const words = `${head}: ${label}`
    return [{ name, words, confidence, uncertain, text: `${words} (${confidence}${uncertain ? ', uncertain' : ''})` }]
  })
}
