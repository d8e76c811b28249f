import { open, type FileHandle } from 'node:fs/promises'
import { extname } from 'node:path'
import type { LogMelBlock } from '../core/dsp/logmel'
import { InputError } from '../core/errors'

/**
 * Writes a [frames, columns] float32 matrix as it is produced, so the output of a long recording is never held in
 * memory: JSON ({"shape", "meta", "data": [[...], ...]}) or NumPy .npy (header rewritten with the final shape).
 */
export interface MatrixWriter {
  write(block: LogMelBlock): Promise<void>
  close(): Promise<number>
}

export async function openMatrixWriter(path: string, columns: number, meta: object): Promise<MatrixWriter> {
  const kind = extname(path).toLowerCase()
  if (kind !== '.json' && kind !== '.npy') throw new InputError(path, 'output must end in .json or .npy')
  let file: FileHandle
  try {
    file = await open(path, 'w')
  } catch (error) {
    throw new InputError(path, `cannot write: ${(error as NodeJS.ErrnoException).code ?? error}`)
  }
  return kind === '.npy' ? npyWriter(file, columns) : jsonWriter(file, columns, meta)
}

function jsonWriter(file: FileHandle, columns: number, meta: object): MatrixWriter {
  let rows = 0
  // the shape is only known at the end, so it follows the data; JSON readers do not care about key order
  const ready = file.write(`{"meta":${JSON.stringify(meta)},"data":[`)
  return {
    async write(block) {
      await ready
      const lines: string[] = []
      for (let f = 0; f < block.frames; f++) {
        // 9 significant digits round-trip any float32 exactly
        const row = Array.from(block.data.subarray(f * columns, (f + 1) * columns), (v) => Number(v.toPrecision(9)))
        lines.push(`${rows + f === 0 ? '' : ','}\n[${row.join(',')}]`)
      }
      rows += block.frames
      await file.write(lines.join(''))
    },
    async close() {
      await ready
      await file.write(`\n],"shape":[${rows},${columns}]}\n`)
      await file.close()
      return rows
    },
  }
}

/** NumPy format 1.0 with a header padded to a fixed 128 bytes, so the final shape fits when rewritten at close. */
function npyWriter(file: FileHandle, columns: number): MatrixWriter {
  const HEADER_BYTES = 128
  const header = (rows: number): Buffer => {
    const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${columns}), }`
    const text = dict.padEnd(HEADER_BYTES - 10 - 1, ' ') + '\n'
    const prefix = Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, text.length & 0xff, text.length >> 8])
    return Buffer.concat([prefix, Buffer.from(text, 'latin1')])
  }
  let rows = 0
  let position = HEADER_BYTES
  return {
    async write(block) {
      const bytes = Buffer.from(block.data.buffer, block.data.byteOffset, block.data.byteLength)
      await file.write(bytes, 0, bytes.length, position)
      position += bytes.length
      rows += block.frames
    },
    async close() {
      await file.write(header(rows), 0, HEADER_BYTES, 0)
      await file.close()
      return rows
    },
  }
}
