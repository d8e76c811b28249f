import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { InputError } from '../errors'
import { CLASSES, type ClassName } from '../api/classes'

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. Returns rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"' && field === '') quoted = true
    else if (ch === ',') {
      row.push(field)
      field = ''
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += ch
  }
  if (field !== '' || row.length) {
    row.push(field)
    rows.push(row)
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''))
}

/** A CSV file read as a header and records, with its columns found by name. */
export interface CsvTable {
  header: string[]
  records: string[][]
  /** the index of a column, -1 when absent */
  column(name: string): number
  /** the path column: `path`, else `file`, else -1 */
  pathColumn: number
}

/** Reads a CSV file (a leading byte-order mark dropped); a missing or empty file is an input error naming it. */
export function readCsvTable(csvPath: string): CsvTable {
  if (!existsSync(csvPath)) throw new InputError(csvPath, 'manifest not found')
  const [header, ...records] = parseCsv(readFileSync(csvPath, 'utf8').replace(/^\uFEFF/, ''))
  if (!header) throw new InputError(csvPath, 'manifest is empty')
  const column = (name: string): number => header.indexOf(name)
  return { header, records, column, pathColumn: column('path') >= 0 ? column('path') : column('file') }
}

export interface ManifestRow {
  /** 1-based line number in the CSV (the header is line 1) */
  line: number
  /** the path as the manifest writes it */
  file: string
  /** resolved against the root */
  path: string
  patientId: string
  label: ClassName
}

export interface Manifest {
  path: string
  root: string
  labelColumn: string
  rows: ManifestRow[]
  /** rows whose label is not one of the classes (e.g. "unknown") */
  skipped: number
}

/**
 * Reads an evaluation manifest: a CSV with a `path` (or `file`) column, `patient_id` and the label column. Paths are
 * relative to `root` (default: the manifest's folder). Rows with a label outside the classes are skipped (counted).
 */
export function readManifest(csvPath: string, labelColumn = 'label_patient', root?: string): Manifest {
  const { records, column, pathColumn } = readCsvTable(csvPath)
  const missing = [
    ...(pathColumn < 0 ? ['path (or file)'] : []),
    ...['patient_id', labelColumn].filter((c) => column(c) < 0),
  ]
  if (missing.length) throw new InputError(csvPath, `manifest lacks column(s) ${missing.join(', ')}`)
  const base = root ?? dirname(resolve(csvPath))
  if (!existsSync(base)) throw new InputError(base, 'manifest root folder not found')
  const patientColumn = column('patient_id')
  const labelIndex = column(labelColumn)
  const rows: ManifestRow[] = []
  let skipped = 0
  records.forEach((record, i) => {
    const label = record[labelIndex]?.trim() ?? ''
    if (!(CLASSES as readonly string[]).includes(label)) return void skipped++
    const file = record[pathColumn]?.trim() ?? ''
    rows.push({
      line: i + 2,
      file,
      path: isAbsolute(file) ? file : resolve(base, file),
      patientId: record[patientColumn]?.trim() ?? '',
      label: label as ClassName,
    })
  })
  return { path: csvPath, root: base, labelColumn, rows, skipped }
}
