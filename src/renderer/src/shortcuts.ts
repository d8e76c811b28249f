/** Whether a key press belongs to a field being typed in (then it is not a shortcut). */
export function isTyping(event: KeyboardEvent): boolean {
  if (event.ctrlKey || event.metaKey || event.altKey) return true
  const target = event.target as HTMLElement
  if (target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' || target.isContentEditable) return true
  if (target.tagName !== 'INPUT') return false
  return !['checkbox', 'radio', 'range', 'button'].includes((target as HTMLInputElement).type)
}
