import { describe, expect, it } from 'vitest'
import { DESCRIPTOR_HEADS } from '../../src/core/api/model-card'
import { DESCRIPTOR_UNCERTAIN_BELOW, DESCRIPTOR_WORDS, descriptorLines } from '../../src/core/api/wording'
import { DESCRIPTORS } from '../helpers/sessions'

describe("a murmur's descriptors in words", () => {
  it('reads each head and label as a clinician writes them, with its confidence, in the heads’ order', () => {
    const shuffled = Object.fromEntries(Object.entries(DESCRIPTORS).reverse())
    expect(descriptorLines(shuffled).map((d) => d.text)).toEqual([
      'Timing: holosystolic (72%)',
      'Shape: plateau (55%)',
      'Pitch: high (41%, uncertain)',
      'Quality: harsh (65%)',
      'Diastolic murmur: no (90%)',
      'Heard at this site: yes (80%)',
    ])
  })

  it(`is uncertain exactly when the label's probability is under ${DESCRIPTOR_UNCERTAIN_BELOW}`, () => {
    const at = (p: number) =>
      descriptorLines({ diastolic: { label: 'yes', probabilities: { no: 1 - p, yes: p } } })[0]!.uncertain
    expect([at(0.49), at(DESCRIPTOR_UNCERTAIN_BELOW), at(0.9)]).toEqual([true, false, false])
  })

  it('has words for every label a model card may have, and none for a head not given', () => {
    for (const [name, labels] of Object.entries(DESCRIPTOR_HEADS)) {
      const words = DESCRIPTOR_WORDS[name as keyof typeof DESCRIPTOR_HEADS]
      expect(Object.keys(words.labels)).toEqual(labels)
    }
    expect(descriptorLines({})).toEqual([])
  })
})
