// The town's beads as bd JSONL, a page at a time (by id), so a client writes 100k beads out
// without either side holding them all. Work beads and convoys travel, then the mail as bd
// `message` records (a whole-town export only: mail belongs to no rig); merge requests and
// escalations are the town's own machinery and stay.
import type { Store } from '../store/store';
import { toBdRecord, type ExportedBead } from './bd-format';
import { toBdMessage, type ExportedMail } from './bd-mail';

/** A cursor past the last bead: the pages that follow are mail (`:` is never in a bead id). */
const MAIL_CURSOR = 'mail:';

const EXPORTED_TYPES = `('task','bug','feature','chore','epic','convoy')`;

/** A bead row as read: labels and metadata still JSON text. */
type Row = Omit<ExportedBead, 'labels' | 'metadata'> & { labels: string; metadata: string };

/** One page: its lines, the cursor for the next (null at the end), and how many lines are beads and how many mail. */
export interface ExportPage {
  lines: string[];
  next: string | null;
  beads: number;
  mail: number;
}

export function exportPage(store: Store, o: { rig?: string; after?: string; limit: number }): ExportPage {
  if (o.after?.startsWith(MAIL_CURSOR)) return mailPage(store, o.after.slice(MAIL_CURSOR.length), o.limit);
  const beads = beadPage(store, o);
  if (beads.next !== null || o.rig) return beads;
  const mail = mailPage(store, '', o.limit - beads.lines.length);
  return { lines: [...beads.lines, ...mail.lines], next: mail.next, beads: beads.beads, mail: mail.mail };
}

function mailPage(store: Store, after: string, limit: number): ExportPage {
  if (limit <= 0) return { lines: [], next: null, beads: 0, mail: 0 };
  const rows = store.all<ExportedMail>(
    `SELECT id, bd_id, reply_to, from_addr, to_addr, subject, body, priority, kind, thread_id, created_at, read_at FROM mail
     WHERE id > ? ORDER BY id LIMIT ?`,
    after, limit,
  );
  return { lines: rows.map(toBdMessage), next: rows.length === limit ? MAIL_CURSOR + rows[rows.length - 1].id : null, beads: 0, mail: rows.length };
}

function beadPage(store: Store, o: { rig?: string; after?: string; limit: number }): ExportPage {
  const rows = store.all<Row>(
    `SELECT id, type, title, body, status, priority, labels, created_at, updated_at, closed_at, close_reason, metadata FROM beads b
     WHERE b.id > @after AND b.type IN ${EXPORTED_TYPES}
       AND (@rig IS NULL OR b.rig_id = @rig OR (b.type = 'convoy' AND EXISTS (
         SELECT 1 FROM convoy_members m JOIN beads x ON x.id = m.bead_id WHERE m.convoy_id = b.id AND x.rig_id = @rig)))
     ORDER BY b.id LIMIT @limit`,
    { after: o.after ?? '', rig: o.rig ?? null, limit: o.limit },
  );
  const deps = store.sql(
    `SELECT d.depends_on_id, d.type, d.created_at FROM dependencies d JOIN beads t ON t.id = d.depends_on_id
     WHERE d.bead_id = ? AND t.type IN ${EXPORTED_TYPES} ORDER BY d.created_at, d.depends_on_id`,
  );
  const lines = rows.map((r) => {
    const bead: ExportedBead = { ...r, labels: JSON.parse(r.labels) as string[], metadata: JSON.parse(r.metadata) as Record<string, unknown> };
    return toBdRecord(bead, deps.all(r.id) as { depends_on_id: string; type: string; created_at: number }[]);
  });
  return { lines, next: rows.length === o.limit ? rows[rows.length - 1].id : null, beads: lines.length, mail: 0 };
}
