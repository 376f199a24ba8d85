// A file's lines, a batch at a time, read synchronously: for work that must sit inside one
// SQLite transaction (a --strict import), where an async reader cannot. Memory holds one
// chunk and one batch, never the file.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

const CHUNK_BYTES = 1 << 16;

export function* lineBatchesSync(file: string, batchLines: number): Generator<string[]> {
  const fd = fs.openSync(file, 'r');
  try {
    const decoder = new StringDecoder('utf8');
    const buf = Buffer.alloc(CHUNK_BYTES);
    let rest = '';
    let batch: string[] = [];
    for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) {
      const parts = (rest + decoder.write(buf.subarray(0, n))).split('\n');
      rest = parts.pop()!;
      for (const p of parts) {
        batch.push(p.endsWith('\r') ? p.slice(0, -1) : p);
        if (batch.length >= batchLines) (yield batch, (batch = []));
      }
    }
    rest += decoder.end();
    // As readline does: a last line without a newline is a line; a final newline adds none.
    if (rest !== '') batch.push(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
    if (batch.length > 0) yield batch;
  } finally {
    fs.closeSync(fd);
  }
}
