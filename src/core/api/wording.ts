import type { AgeGroup, Finding, SessionStatus, Sex, Site } from './app'
import type { ClassName } from './classes'

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
