// The town's beads as bd JSONL, a page at a time (by id), so a client writes 100k beads out
// without either side holding them all. Work beads and convoys travel; merge requests, mail
// and escalations are the town's own machinery and stay.
import type { Store } from '../store/store';
import { toBdRecord, type ExportedBead } from './bd-format';

const EXPORTED_TYPES = `('task','bug','feature','chore','epic','convoy')`;

interface Row {
  id: string;
  type: string;
  title: string;
  body: string;
  status: string;
  priority: number;
  labels: string;
  created_at: number;
  updated_at: number;
  closed_at: number | null;
  close_reason: string | null;
  metadata: string;
}

export function exportPage(store: Store, o: { rig?: string; after?: string; limit: number }): { lines: string[]; next: string | null } {
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
  return { lines, next: rows.length === o.limit ? rows[rows.length - 1].id : null };
}
