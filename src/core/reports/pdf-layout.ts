import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage, type RGB } from 'pdf-lib'
import { winAnsi } from './text'

/** Page sizes in points (1/72 in): ISO A4 and US Letter. */
export const PAPERS = { a4: [595.28, 841.89], letter: [612, 792] } as const
export type Paper = keyof typeof PAPERS

/** margins all round, and the band kept free at the foot of each page for its footer */
const MARGIN = 48
const FOOTER = 34

export const INK = rgb(0.1, 0.1, 0.12)
export const MUTED = rgb(0.38, 0.38, 0.42)
export const RULE = rgb(0.78, 0.78, 0.8)

export interface TextStyle {
  size?: number
  bold?: boolean
  colour?: RGB
  /** points from the left margin */
  indent?: number
}

/** The marker after a text that had to be transliterated for the standard fonts (WinAnsi holds it). */
export const TRANSLITERATED = '†'

/**
 * A top-to-bottom writer of pages: a cursor that text, rules and blocks move down, and a new page whenever a block
 * would not fit (a block is never split across pages). Text is vector (the standard Helvetica), never an image.
 */
export class PageWriter {
  private page!: PDFPage
  /** the top of what is written next, in PDF points from the page's foot */
  y = 0
  /** some user text was transliterated: the footer says so */
  transliterated = false

  private constructor(
    readonly doc: PDFDocument,
    private readonly paper: readonly [number, number],
    readonly regular: PDFFont,
    readonly bold: PDFFont,
  ) {
    this.newPage()
  }

  static async create(paper: Paper): Promise<PageWriter> {
    const doc = await PDFDocument.create()
    const [regular, bold] = await Promise.all([
      doc.embedFont(StandardFonts.Helvetica),
      doc.embedFont(StandardFonts.HelveticaBold),
    ])
    return new PageWriter(doc, PAPERS[paper], regular, bold)
  }

  get left(): number {
    return MARGIN
  }
  get width(): number {
    return this.paper[0] - 2 * MARGIN
  }
  get current(): PDFPage {
    return this.page
  }

  newPage(): void {
    this.page = this.doc.addPage([...this.paper])
    this.y = this.paper[1] - MARGIN
  }

  /** Starts a new page unless `height` points still fit above the footer. */
  keep(height: number): void {
    if (this.y - height < MARGIN + FOOTER) this.newPage()
  }

  gap(points: number): void {
    this.y -= points
  }

  /** The text as the fonts can print it; user text that changed is marked (and the footer explains the mark). */
  printable(text: string): string {
    const printed = winAnsi(text)
    if (!printed.changed) return printed.text
    this.transliterated = true
    return printed.text + TRANSLITERATED
  }

  font(style: TextStyle): PDFFont {
    return style.bold ? this.bold : this.regular
  }

  /** Lines of at most the text width (words kept whole unless one alone is wider). */
  wrap(text: string, style: TextStyle = {}): string[] {
    const size = style.size ?? 10
    const font = this.font(style)
    const room = this.width - (style.indent ?? 0)
    const lines: string[] = []
    let line = ''
    for (const word of this.printable(text).split(/ +/)) {
      const candidate = line ? `${line} ${word}` : word
      if (line && font.widthOfTextAtSize(candidate, size) > room) {
        lines.push(line)
        line = word
      } else line = candidate
    }
    if (line) lines.push(line)
    return lines
  }

  /** Writes a paragraph, wrapped; its lines may run onto the next page. */
  paragraph(text: string, style: TextStyle = {}): void {
    for (const line of this.wrap(text, style)) this.line(line, style, true)
  }

  /** Height of a paragraph as `paragraph` would write it. */
  paragraphHeight(text: string, style: TextStyle = {}): number {
    return this.wrap(text, style).length * lineHeight(style)
  }

  /** One line of text at the cursor (already printable when `printed`), the cursor moved below it. */
  line(text: string, style: TextStyle = {}, printed = false): void {
    const size = style.size ?? 10
    this.keep(lineHeight(style))
    this.page.drawText(printed ? text : this.printable(text), {
      x: this.left + (style.indent ?? 0),
      y: this.y - size,
      size,
      font: this.font(style),
      color: style.colour ?? INK,
    })
    this.y -= lineHeight(style)
  }

  /** Label and value pairs in columns of equal width, one row per `columns` pairs. */
  fields(pairs: readonly [string, string][], columns: number, size = 9): void {
    const column = this.width / columns
    for (let row = 0; row < pairs.length; row += columns) {
      this.keep(2 * lineHeight({ size }) + 2)
      pairs.slice(row, row + columns).forEach(([label, value], i) => {
        const x = this.left + i * column
        this.page.drawText(label, { x, y: this.y - size + 1, size: size - 1.5, font: this.regular, color: MUTED })
        const shown = fitWidth(this.printable(value), this.bold, size, column - 6)
        this.page.drawText(shown, { x, y: this.y - 2 * size - 1, size, font: this.bold, color: INK })
      })
      this.y -= 2 * lineHeight({ size }) + 2
    }
  }

  /** A thin rule across the text width. */
  rule(): void {
    this.page.drawLine({
      start: { x: this.left, y: this.y },
      end: { x: this.left + this.width, y: this.y },
      thickness: 0.6,
      color: RULE,
    })
    this.y -= 6
  }

  /** Writes each page's footer (its lines from the left, "Page i of n" at the right), then the file's bytes. */
  async finish(footer: readonly string[], created: Date): Promise<Uint8Array> {
    const pages = this.doc.getPages()
    const size = 7
    pages.forEach((page, i) => {
      const base = MARGIN - 8
      footer.forEach((text, k) =>
        page.drawText(fitWidth(text, this.regular, size, this.width - 60), {
          x: this.left,
          y: base + (footer.length - 1 - k) * (size + 2),
          size,
          font: this.regular,
          color: MUTED,
        }),
      )
      const number = `Page ${i + 1} of ${pages.length}`
      page.drawText(number, {
        x: this.left + this.width - this.regular.widthOfTextAtSize(number, 8),
        y: base,
        size: 8,
        font: this.regular,
        color: MUTED,
      })
    })
    this.doc.setCreationDate(created)
    this.doc.setModificationDate(created)
    return this.doc.save()
  }
}

export const lineHeight = (style: TextStyle): number => (style.size ?? 10) * 1.35

/** The text, cut with an ellipsis where it would be wider than `width` points. */
export function fitWidth(text: string, font: PDFFont, size: number, width: number): string {
  if (font.widthOfTextAtSize(text, size) <= width) return text
  let cut = text
  while (cut.length > 1 && font.widthOfTextAtSize(`${cut}…`, size) > width) cut = cut.slice(0, -1)
  return `${cut}…`
}
