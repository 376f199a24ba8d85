// Streams a bd JSONL file into the town: one transaction (and one `beads.imported` event) per
// batch of lines, so memory stays flat and other writers get turns between batches. Links
// wait in temporary tables until every bead is in: a bead may depend on one further down the
// file, and a link to a record that never arrives is dropped (it never blocks).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { OVERSEER, type ImportSummary } from '../../shared/domain';
import { ApiError, invalid, notFound } from '../../shared/errors';
import type { Store } from '../store/store';
import { importMail } from '../store/mail';
import { getAgent, getRig } from '../store/views';
import { linkImported } from './bd-links';
import { mailIdFor } from './bd-mail';
import { parseBdLine, type BdLine } from './bd-format';
import { lineBatchesSync } from './line-batches';

const BATCH_LINES = 5_000;
const ABANDONED_AFTER_MS = 60_000;
/** Bad lines listed in the summary; the count covers them all (cycles too, bd-links.ts). */
const BAD_LINES_LISTED = 100;

export interface ImportOptions {
  file: string;
  rig?: string;
  strict: boolean;
}

/** --rig, else the town's only rig; anything else is a question only the overseer answers. */
export function importRig(store: Store, rig: string | undefined): string {
  if (rig) {
    if (!getRig(store, rig)) throw notFound('rig', rig, 'rig');
    return rig;
  }
  const rigs = store.all<{ id: string }>('SELECT id FROM rigs ORDER BY id');
  if (rigs.length === 1) return rigs[0].id;
  throw invalid(
    rigs.length === 0 ? 'the town has no rig to import into: add one first (town rig add)' : `the town has ${rigs.length} rigs (${rigs.map((r) => r.id).join(', ')}): say which with --rig`,
    'rig',
  );
}

/** bd writes .jsonl; the extension keeps an import from opening whatever file it is pointed at. */
export function assertJsonlName(file: string) {
  if (!/\.jsonl?$/i.test(file)) throw invalid(`${path.basename(file)} is not a .jsonl file (bd export, .beads/issues.jsonl)`, 'path');
}

function openFile(file: string): fs.ReadStream {
  if (!path.isAbsolute(file)) throw invalid('give the file as an absolute path', 'path');
  assertJsonlName(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw notFound('file', file, 'path');
  }
  if (!st.isFile()) throw invalid(`${file} is not a file`, 'path');
  return fs.createReadStream(file, { encoding: 'utf8' });
}

async function* numberedLines(file: string): AsyncGenerator<[number, string]> {
  const lines = readline.createInterface({ input: openFile(file), crlfDelay: Infinity });
  let n = 0;
  for await (const text of lines) yield [++n, text];
}

/**
 * --strict: all or nothing. The file is read synchronously inside one transaction, so a bad
 * line or a dependency that closes a cycle (found only once every bead is in) rolls the whole
 * import back. Other writers wait for it: strict is the careful, not the fast, import.
 */
function importStrict(store: Store, rig: string, file: string): ImportSummary {
  return store.transaction(() => {
    const session = ImportSession.begin(store, rig, file, true);
    try {
      for (const batch of lineBatchesSync(file, BATCH_LINES)) session.addLines(batch);
      return session.finish();
    } finally {
      session.end();
    }
  });
}

function prepareStaging(store: Store) {
  store.db.exec(`
    DROP TABLE IF EXISTS temp.import_links;
    CREATE TEMP TABLE import_links (bead_id TEXT NOT NULL, depends_on_id TEXT NOT NULL, type TEXT NOT NULL, created_at INTEGER NOT NULL, ord INTEGER NOT NULL, line INTEGER NOT NULL);
    CREATE INDEX temp.import_links_by_bead ON import_links(bead_id, type);
  `);
}

export async function importBdFile(store: Store, o: ImportOptions): Promise<ImportSummary> {
  const rig = importRig(store, o.rig);
  openFile(o.file).destroy();
  if (o.strict) return importStrict(store, rig, o.file);
  const session = ImportSession.begin(store, rig, o.file);
  try {
    let batch: string[] = [];
    for await (const [, text] of numberedLines(o.file)) {
      batch.push(text);
      if (batch.length >= BATCH_LINES) (session.addLines(batch), (batch = []));
    }
    session.addLines(batch);
    return session.finish();
  } finally {
    session.end();
  }
}

/**
 * One import: lines arrive in batches (read from a file here, or sent by the window a chunk at
 * a time as it reads a dropped file), each applied in its own transaction; `finish` makes the
 * links. One import per town at a time: the staging table is shared.
 */
export class ImportSession {
  private static open = new WeakMap<Store, ImportSession>();
  readonly id = randomUUID();
  readonly summary: ImportSummary;
  private readonly origin: string;
  /** What a new bead is held for until the import links it (a re-import of the file completes an abandoned one). */
  private get holdReason(): string {
    return `importing ${this.origin}: dispatch waits until the import has linked its dependencies`;
  }
  private ord = 0;
  private ended = false;
  private lastActivity: number;

  static begin(store: Store, rig: string, file: string, strict = false): ImportSession {
    const running = ImportSession.open.get(store);
    // A window that closed mid-import leaves its session behind: after a quiet minute it yields.
    if (running && store.now() - running.lastActivity < ABANDONED_AFTER_MS) {
      throw new ApiError('conflict', 'an import is already running in this town; wait for it to finish', 'path');
    }
    running?.end();
    const s = new ImportSession(store, rig, file, strict);
    ImportSession.open.set(store, s);
    return s;
  }

  static current(store: Store, id: string): ImportSession {
    const s = ImportSession.open.get(store);
    if (!s || s.id !== id) throw notFound('import', id, 'import');
    return s;
  }

  /** --strict: the first bad line or cycle throws, and the caller's one transaction rolls back. */
  private constructor(private readonly store: Store, private readonly rig: string, file: string, private readonly strict: boolean) {
    this.summary = {
      file, rig, lines: 0, imported: 0, updated: 0, skipped: {}, dependencies: 0, dependencies_dropped: {}, convoys: 0, mail: { imported: 0, updated: 0, to_absent: 0 }, cycles: [], cycle_count: 0, bad_lines: [], bad_line_count: 0,
    };
    this.origin = `bd:${path.basename(file)}`.slice(0, 200);
    this.lastActivity = store.now();
    prepareStaging(store);
  }

  /** The next lines of the file, in order: one transaction and one `beads.imported` event. */
  addLines(lines: string[]) {
    if (this.ended) throw new ApiError('conflict', 'this import has ended', 'import');
    this.lastActivity = this.store.now();
    if (lines.length === 0) return;
    const first = this.summary.lines + 1;
    const before = this.summary.imported + this.summary.updated;
    this.store.transaction(() => {
      lines.forEach((text, i) => this.apply(first + i, parseBdLine(text)));
      const beads = this.summary.imported + this.summary.updated - before;
      if (beads > 0) this.store.event({ type: 'beads.imported', payload: { file: this.origin, rig: this.rig, from_line: first, to_line: first + lines.length - 1, beads } });
    });
  }

  finish(): ImportSummary {
    if (this.ended) throw new ApiError('conflict', 'this import has ended', 'import');
    this.store.transaction(() => {
      linkImported(this.store, this.summary, this.origin, this.rig, this.strict);
      this.store.run(`UPDATE beads SET held_at = NULL, held_reason = NULL WHERE held_reason = ? AND status = 'open'`, this.holdReason);
    });
    this.end();
    return this.summary;
  }

  /** Lets the next import begin (what this one committed stays: a re-import completes it). */
  end() {
    this.ended = true;
    if (ImportSession.open.get(this.store) === this) ImportSession.open.delete(this.store);
  }

  private apply(n: number, parsed: BdLine) {
    const { store, summary } = this;
    summary.lines = n;
    switch (parsed.kind) {
      case 'blank':
        return;
      case 'skip':
        summary.skipped[parsed.reason] = (summary.skipped[parsed.reason] ?? 0) + 1;
        return;
      case 'bad':
        if (this.strict) throw invalid(`line ${n}: ${parsed.error} (--strict: nothing imported)`, 'path');
        summary.bad_line_count++;
        if (summary.bad_lines.length < BAD_LINES_LISTED) summary.bad_lines.push({ line: n, error: parsed.error });
        return;
      case 'mail': {
        const to = recipientHere(store, parsed.mail.to);
        if (!to.here) summary.mail.to_absent++;
        summary.mail[importMail(store, mailIdFor(parsed.mail.bdId), { ...parsed.mail, to: to.address })]++;
        return;
      }
    }
    const b = parsed.bead;
    const isNew = store.sql('SELECT 1 FROM beads WHERE id = ?').get(b.id) === undefined;
    const created = b.created_at ?? store.now();
    const updated = b.updated_at ?? created;
    store.sql(UPSERT).run(
      b.id, b.type === 'convoy' ? null : this.rig, b.type, b.title, b.body, b.status, b.priority, JSON.stringify(b.labels), this.origin,
      created, updated, b.status === 'closed' ? b.closed_at ?? updated : null, b.close_reason, JSON.stringify({ bd: b.bd }),
      // A new open bead is held until `finish` links its blockers, so an auto-dispatch rig
      // never starts one that only looks ready because its dependencies come in a later batch.
      b.status === 'open' ? store.now() : null, b.status === 'open' ? this.holdReason : null,
    );
    if (b.type === 'convoy' && store.sql(CONVOY_ROW).run(b.id).changes > 0) summary.convoys++;
    if (isNew) summary.imported++;
    else summary.updated++;
    const stage = store.sql('INSERT INTO temp.import_links (bead_id, depends_on_id, type, created_at, ord, line) VALUES (?, ?, ?, ?, ?, ?)');
    for (const l of parsed.links) stage.run(l.bead, l.dependsOn, l.type, l.created_at ?? created, this.ord++, n);
    for (const kind of parsed.droppedLinks) summary.dependencies_dropped[kind] = (summary.dependencies_dropped[kind] ?? 0) + 1;
  }
}

/**
 * Gas Town writes a polecat as `rig/name`; here it is `rig/polecats/name` (or crew). A name
 * nobody here answers to is kept as written: the message stays true to who wrote to whom, and
 * an export writes it back unchanged. No agent's inbox shows it (an inbox matches its address
 * exactly, and ours are never `rig/name`); the overseer sees it among the town's mail, and the
 * summary counts them.
 */
function recipientHere(store: Store, to: string): { address: string; here: boolean } {
  if (to === OVERSEER || getAgent(store, to)) return { address: to, here: true };
  const [rig, name, ...rest] = to.split('/');
  if (rig && name && rest.length === 0) {
    for (const role of ['polecats', 'crew']) if (getAgent(store, `${rig}/${role}/${name}`)) return { address: `${rig}/${role}/${name}`, here: true };
  }
  return { address: to, here: false };
}

// Content follows the file; a status moves only open → closed (a bead Overseer works on, or
// one it closed, stays as it is: terminal beads change only by explicit reopen).
const UPSERT = `INSERT INTO beads (id, rig_id, type, title, body, status, priority, labels, origin_kind, origin_id, created_at, updated_at, closed_at, close_reason, metadata, held_at, held_reason)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'import', ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT(id) DO UPDATE SET title = excluded.title, body = excluded.body, priority = excluded.priority, labels = excluded.labels,
    updated_at = excluded.updated_at, metadata = json_set(beads.metadata, '$.bd', json(json_extract(excluded.metadata, '$.bd'))),
    closed_at = CASE WHEN beads.status = 'open' AND excluded.status = 'closed' THEN excluded.closed_at ELSE beads.closed_at END,
    close_reason = CASE WHEN beads.status = 'open' AND excluded.status = 'closed' THEN excluded.close_reason ELSE beads.close_reason END,
    status = CASE WHEN beads.status = 'open' AND excluded.status = 'closed' THEN 'closed' ELSE beads.status END`;
const CONVOY_ROW = `INSERT OR IGNORE INTO convoys (id, status) SELECT id, 'staged' FROM beads WHERE id = ? AND type = 'convoy'`;
