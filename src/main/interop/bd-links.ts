// The end of an import: the links staged while the beads came in (temp.import_links) become
// dependencies, parents and convoy members, once every bead is in the town.
import type { DependencyType, ImportSummary } from '../../shared/domain';
import { invalid } from '../../shared/errors';
import { cycleClosedBy, WAITING_TYPES_SQL } from '../store/beads';
import type { Store } from '../store/store';

/** Cycles listed in the summary; the count covers them all (as bad lines, bd-import.ts). */
const CYCLES_LISTED = 100;

/**
 * Waiting links (blocks, parent-child) go in one at a time in file order, each checked by the
 * store's own cycle rule (the one `bead dep add` uses): the link that would close a cycle is
 * dropped and reported, since nobody would be told of beads stuck waiting on each other (or of
 * a parent that is its own ancestor). Only links whose target itself waits on something can
 * close one; the rest, nearly all of a real file, go in as one statement.
 */
function linkWaiting(store: Store, summary: ImportSummary, strict: boolean) {
  const mayCloseCycle = `l.type IN ${WAITING_TYPES_SQL} AND (
    EXISTS (SELECT 1 FROM dependencies d WHERE d.bead_id = l.depends_on_id AND d.type IN ${WAITING_TYPES_SQL})
    OR EXISTS (SELECT 1 FROM temp.import_links x WHERE x.bead_id = l.depends_on_id AND x.type IN ${WAITING_TYPES_SQL}))`;
  store.run(
    `INSERT OR IGNORE INTO dependencies (bead_id, depends_on_id, type, created_at)
     SELECT l.bead_id, l.depends_on_id, l.type, l.created_at FROM temp.import_links l
     JOIN beads s ON s.id = l.bead_id JOIN beads t ON t.id = l.depends_on_id WHERE NOT (${mayCloseCycle})`,
  );
  const careful = store.all<{ rowid: number; bead_id: string; depends_on_id: string; type: DependencyType; created_at: number; line: number }>(
    `SELECT l.rowid, l.bead_id, l.depends_on_id, l.type, l.created_at, l.line FROM temp.import_links l
     JOIN beads s ON s.id = l.bead_id JOIN beads t ON t.id = l.depends_on_id WHERE ${mayCloseCycle} ORDER BY l.ord`,
  );
  const insert = store.sql('INSERT OR IGNORE INTO dependencies (bead_id, depends_on_id, type, created_at) VALUES (?, ?, ?, ?)');
  const unstage = store.sql('DELETE FROM temp.import_links WHERE rowid = ?');
  for (const l of careful) {
    const cycle = cycleClosedBy(store, l.bead_id, l.depends_on_id, l.type);
    if (cycle === null) {
      insert.run(l.bead_id, l.depends_on_id, l.type, l.created_at);
      continue;
    }
    const dependency = `${l.bead_id} ${l.type === 'blocks' ? 'blocks on' : 'is a child of'} ${l.depends_on_id}`;
    if (strict) throw invalid(`line ${l.line}: ${dependency} would close the cycle ${cycle} (--strict: nothing imported)`, 'path');
    // Listed up to a cap, like bad lines: a file of thousands of cycles must not make a huge reply.
    if (summary.cycles.length < CYCLES_LISTED) summary.cycles.push({ line: l.line, dependency, cycle });
    summary.cycle_count++;
    summary.dependencies_dropped.cycle = (summary.dependencies_dropped.cycle ?? 0) + 1;
    summary.dependencies--;
    // Not a parent either: the parent_id below follows the links that were kept.
    unstage.run(l.rowid);
  }
}

/** Links whose both ends are in the town become dependencies; a convoy's `tracks`, its members. */
export function linkImported(store: Store, summary: ImportSummary, origin: string, rig: string, strict: boolean) {
  const staged = store.get<{ n: number }>('SELECT count(*) AS n FROM temp.import_links')!.n;
  const kept = store.all<{ type: string; n: number }>(
    `SELECT l.type, count(*) AS n FROM temp.import_links l JOIN beads s ON s.id = l.bead_id JOIN beads t ON t.id = l.depends_on_id GROUP BY l.type`,
  );
  const keptCount = kept.reduce((a, k) => a + k.n, 0);
  summary.dependencies = keptCount;
  if (staged > keptCount) summary.dependencies_dropped['target not imported'] = staged - keptCount;
  linkWaiting(store, summary, strict);
  store.run(
    `UPDATE beads SET parent_id = l.depends_on_id FROM temp.import_links l
     WHERE l.bead_id = beads.id AND l.type = 'parent-child' AND beads.parent_id IS NULL
       AND EXISTS (SELECT 1 FROM beads t WHERE t.id = l.depends_on_id)`,
  );
  // Members in file order after any the convoy already has; convoys and MRs are never members.
  store.run(
    `INSERT OR IGNORE INTO convoy_members (convoy_id, bead_id, position)
     SELECT l.bead_id, l.depends_on_id,
       coalesce((SELECT max(position) FROM convoy_members m WHERE m.convoy_id = l.bead_id), -1)
         + row_number() OVER (PARTITION BY l.bead_id ORDER BY l.ord)
     FROM temp.import_links l JOIN convoys c ON c.id = l.bead_id JOIN beads t ON t.id = l.depends_on_id
     WHERE l.type = 'tracks' AND t.type NOT IN ('convoy', 'merge_request')
       AND NOT EXISTS (SELECT 1 FROM convoy_members m WHERE m.convoy_id = l.bead_id AND m.bead_id = l.depends_on_id)`,
  );
  // A closed bd convoy lands only if every member is closed here too (invariant 6); one still
  // open stays staged, and nothing an import does starts a convoy.
  store.run(
    `UPDATE convoys SET status = 'landed', landed_at = (SELECT closed_at FROM beads b WHERE b.id = convoys.id)
     WHERE status = 'staged' AND (SELECT status FROM beads b WHERE b.id = convoys.id) = 'closed'
       AND NOT EXISTS (SELECT 1 FROM convoy_members m JOIN beads b ON b.id = m.bead_id WHERE m.convoy_id = convoys.id AND b.status <> 'closed')`,
  );
  store.db.exec('DELETE FROM temp.import_links');
  store.event({
    type: 'beads.imported',
    payload: { file: origin, rig, beads: 0, dependencies: summary.dependencies, convoys: summary.convoys, skipped: Object.values(summary.skipped).reduce((a, n) => a + n, 0) },
  });
  // Thousands of beads changed without a patch each (that would flood the feed): the skipped
  // revision shows every client a gap, and a gap makes it fetch a fresh snapshot.
  store.skipRevision();
  store.setSetting('beads.last_import', { file: origin, rig, imported: summary.imported, updated: summary.updated });
}
