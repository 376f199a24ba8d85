// Sends a dropped bd JSONL file to the engine a chunk of lines at a time: the engine cannot
// open a file by path from a browser window, and a chunk stays well under the UI's 1 MB frame.
import type { ImportSummary } from '../../../shared/domain';
import { getBackend } from './town-store';

const CHUNK_LINES = 1_000;
const CHUNK_CHARS = 256 * 1024;

export interface UploadProgress {
  read: number;
  total: number;
}

/** Splits text arriving in pieces into whole lines; the last piece may end without a newline. */
export function lineSplitter() {
  let rest = '';
  return {
    push(piece: string): string[] {
      const lines = (rest + piece).split('\n');
      rest = lines.pop() ?? '';
      return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    },
    end(): string[] {
      const last = rest;
      rest = '';
      return last === '' ? [] : [last];
    },
  };
}

export async function uploadBdFile(file: File, rig: string | undefined, onProgress: (p: UploadProgress) => void): Promise<ImportSummary> {
  const backend = getBackend();
  const { import: id } = await backend.call('bead.import_begin', { name: file.name, rig });
  const split = lineSplitter();
  let chunk: string[] = [];
  let chars = 0;
  const send = async () => {
    if (chunk.length === 0) return;
    const lines = chunk;
    chunk = [];
    chars = 0;
    await backend.call('bead.import_lines', { import: id, lines });
  };
  const take = async (lines: string[]) => {
    for (const l of lines) {
      chunk.push(l);
      chars += l.length;
      if (chunk.length >= CHUNK_LINES || chars >= CHUNK_CHARS) await send();
    }
  };
  const reader = file.stream().pipeThrough(new TextDecoderStream()).getReader();
  let read = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    // Characters stand in for bytes: close enough for a progress bar.
    read = Math.min(file.size, read + new Blob([value]).size);
    await take(split.push(value));
    onProgress({ read, total: file.size });
  }
  await take(split.end());
  await send();
  onProgress({ read: file.size, total: file.size });
  return backend.call('bead.import_finish', { import: id });
}
