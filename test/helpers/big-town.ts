// A generated bd JSONL export of a large town, for the scale UI test and bench: N work beads
// (about 60% ready, 15% blocked, 25% closed), one big staged convoy and many small ones.
import fs from 'node:fs';

export interface BigTown {
  file: string;
  /** The Ready bead that sorts last (lowest priority, newest). */
  lastReady: string;
  /** A ready bead in the middle of the column, titled with a unique word. */
  needle: { id: string; word: string };
  bigConvoy: { id: string; members: number };
  convoys: number;
}

const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();

export function writeBigTown(file: string, beads: number, o: { convoys?: number; bigConvoy?: number } = {}): BigTown {
  const convoys = o.convoys ?? 120;
  const big = o.bigConvoy ?? 600;
  const lines: string[] = [];
  const id = (i: number) => `bb-${i}`;
  const needleAt = Math.floor(beads / 2) - (Math.floor(beads / 2) % 20) + 1;
  const lastAt = beads - 1;
  for (let i = 0; i < beads; i++) {
    const kind = i % 20; // 0..11 ready, 12..14 blocked, 15..19 closed
    const closed = kind >= 15 && i !== lastAt && i !== needleAt;
    const blocked = kind >= 12 && kind < 15 && i !== lastAt && i !== needleAt;
    const rec: Record<string, unknown> = {
      id: id(i),
      title: i === needleAt ? 'Find the zeppelin in the haystack' : `Bead number ${i} of the big town`,
      description: `Generated bead ${i}.`,
      status: closed ? 'closed' : 'open',
      priority: i === lastAt ? 4 : i % 4,
      issue_type: i % 7 === 0 ? 'bug' : 'task',
      created_at: at(i),
      updated_at: at(i),
      labels: i % 3 === 0 ? ['ui'] : [],
    };
    if (closed) Object.assign(rec, { closed_at: at(i + 1), close_reason: 'done' });
    // A blocked bead waits on the next bead, which is open (kinds 13..15 are never closed by this).
    if (blocked) rec.dependencies = [{ issue_id: id(i), depends_on_id: id(i - 12 + (kind - 12)), type: 'blocks' }];
    lines.push(JSON.stringify(rec));
  }
  // Convoys track open beads that are ready or blocked, never the needle or the last one.
  const tracked = (n: number, from: number) => {
    const out: string[] = [];
    for (let i = from; out.length < n && i < beads; i++) if (i % 20 < 15 && i !== needleAt && i !== lastAt) out.push(id(i));
    return out;
  };
  const convoy = (cid: string, title: string, members: string[]) =>
    JSON.stringify({ id: cid, title, status: 'open', priority: 2, issue_type: 'convoy', created_at: at(0), updated_at: at(0), dependencies: members.map((m) => ({ issue_id: cid, depends_on_id: m, type: 'tracks' })) });
  lines.push(convoy('bb-cv-big', 'The big convoy', tracked(big, 0)));
  for (let c = 1; c < convoys; c++) lines.push(convoy(`bb-cv-${c}`, `Small convoy ${c}`, tracked(3, big * 2 + c * 5)));
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return { file, lastReady: id(lastAt), needle: { id: id(needleAt), word: 'zeppelin' }, bigConvoy: { id: 'bb-cv-big', members: big }, convoys };
}
