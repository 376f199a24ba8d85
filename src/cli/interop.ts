// `town import FILE` and `town export`: bd JSONL in and out. The engine reads the file itself
// (the CLI runs on the same machine), and export pages through the town so neither side holds
// every bead at once.
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import type { ApiInput, ApiOutput } from '../shared/api';
import type { ImportSummary } from '../shared/domain';
import { line } from './printable';

interface Caller {
  call(method: 'bead.import', params: ApiInput<'bead.import'>): Promise<ApiOutput<'bead.import'>>;
  call(method: 'bead.export', params: ApiInput<'bead.export'>): Promise<ApiOutput<'bead.export'>>;
}

export function importFile(conn: Caller, file: string, o: { rig?: string; strict: boolean }): Promise<ImportSummary> {
  return conn.call('bead.import', { path: path.resolve(file), rig: o.rig, strict: o.strict });
}

const counts = (r: Record<string, number>) =>
  Object.entries(r).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';

export function importReport(s: ImportSummary): string {
  const out = [
    line`imported ${s.imported}, updated ${s.updated} beads into rig ${s.rig} from ${s.file} (${s.lines} lines)`,
    line`skipped: ${counts(s.skipped)}`,
    line`dependencies kept ${s.dependencies}; dropped: ${counts(s.dependencies_dropped)}`,
    line`convoys created ${s.convoys}`,
    line`mail imported ${s.mail.imported}, updated ${s.mail.updated}${s.mail.to_absent ? ` (${s.mail.to_absent} to recipients not in this town)` : ''}`,
  ];
  for (const c of s.cycles) out.push(line`line ${c.line}: dropped "${c.dependency}": it would close the cycle ${c.cycle}`);
  if (s.cycle_count > s.cycles.length) out.push(line`… and ${s.cycle_count - s.cycles.length} more dependencies that would close a cycle`);
  if (s.bad_line_count > 0) {
    out.push(line`${s.bad_line_count} bad lines:`);
    for (const b of s.bad_lines) out.push(line`  line ${b.line}: ${b.error}`);
    if (s.bad_line_count > s.bad_lines.length) out.push(line`  … and ${s.bad_line_count - s.bad_lines.length} more`);
  }
  return out.join('\n');
}

/** Writes every page to `out` (a file) or stdout; resolves to how many beads and messages it wrote. */
export async function exportBeads(conn: Caller, o: { rig?: string; out?: string }): Promise<{ beads: number; mail: number }> {
  const sink = o.out ? fs.createWriteStream(path.resolve(o.out)) : process.stdout;
  let beads = 0;
  let mail = 0;
  let after: string | undefined;
  do {
    const page = await conn.call('bead.export', { rig: o.rig, after, limit: 1_000 });
    if (page.lines.length > 0 && !sink.write(page.lines.join('\n') + '\n')) await once(sink, 'drain');
    beads += page.beads;
    mail += page.mail;
    after = page.next ?? undefined;
  } while (after);
  if (sink !== process.stdout) {
    const file = sink as fs.WriteStream;
    file.end();
    await once(file, 'finish');
  }
  return { beads, mail };
}
