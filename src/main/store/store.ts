// The one source of truth. Every write runs inside `transaction`, which also appends
// its events; after the outermost commit the touched entities go out as revisioned patches.
import type { EntityKind, Patch } from '../../shared/domain';
import { EVENT_PAYLOADS, type EventPayloadInput, type EventType } from '../../shared/events';
import type { Clock } from '../reconciler/clock';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database';
import { newBeadId } from './bead-ids';
import { entityView } from './views';

export type EventInput = {
  [T in EventType]: {
    type: T;
    agent?: string | null;
    bead?: string | null;
    payload: EventPayloadInput<T>;
    /** Pending events are drained by the reconciler exactly once; others are feed-only. */
    pending?: boolean;
  };
}[EventType];

export type PatchListener = (patches: Patch[]) => void;

export class Store {
  readonly db: Db;
  readonly clock: Clock;
  private statements = new Map<string, Statement<unknown[]>>();
  private depth = 0;
  private touched = new Map<string, { kind: EntityKind; id: string }>();
  private listeners = new Set<PatchListener>();
  private eventListeners = new Set<() => void>();
  private rev = 0;
  private workRev = 0;
  private eventAppended = false;

  constructor(db: Db, clock: Clock) {
    this.db = db;
    this.clock = clock;
  }

  get revision(): number {
    return this.rev;
  }

  now(): number {
    return this.clock.now();
  }

  /** A cached prepared statement. */
  sql(text: string) {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare<unknown[]>(text);
      this.statements.set(text, s);
    }
    return s;
  }

  get<T>(text: string, ...params: unknown[]): T | undefined {
    return this.sql(text).get(...params) as T | undefined;
  }

  all<T>(text: string, ...params: unknown[]): T[] {
    return this.sql(text).all(...params) as T[];
  }

  run(text: string, ...params: unknown[]) {
    return this.sql(text).run(...params);
  }

  /** Runs `fn` in a transaction (nested calls join the outer one). Patches go out after commit. */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.depth++;
    let result: T;
    try {
      result = this.db.transaction(fn)();
    } catch (err) {
      this.touched.clear();
      this.eventAppended = false;
      throw err;
    } finally {
      this.depth--;
    }
    this.publish();
    return result;
  }

  /** Inside a transaction, `fn`'s writes roll back alone when it throws (a SAVEPOINT); outside, a transaction. */
  savepoint<T>(fn: () => T): T {
    if (this.depth === 0) return this.transaction(fn);
    return this.db.transaction(fn)();
  }

  /**
   * Leaves a revision out of the feed: after a bulk write (an import) that touched too much to
   * send as patches, clients see the gap at the next patch and fetch a snapshot instead.
   */
  skipRevision() {
    this.rev++;
    this.workRev++;
  }

  /**
   * Counts writes that can change which beads are dispatchable (beads and their dependencies,
   * convoys, rigs, settings): the dispatcher's memory of a fruitless walk lasts until it moves.
   */
  get workRevision(): number {
    return this.workRev;
  }

  touch(kind: EntityKind, id: string) {
    if (kind === 'bead' || kind === 'convoy' || kind === 'rig' || kind === 'setting') this.workRev++;
    this.touched.set(`${kind}:${id}`, { kind, id });
  }

  event(e: EventInput): number {
    // A malformed payload is the writer's bug: refused here, never stored for the reconciler to trip on.
    const payload = EVENT_PAYLOADS[e.type].parse(e.payload);
    const now = this.now();
    const info = this.run(
      'INSERT INTO events (type, agent_id, bead_id, payload, created_at, processed_at) VALUES (?, ?, ?, ?, ?, ?)',
      e.type,
      e.agent ?? null,
      e.bead ?? null,
      JSON.stringify(payload),
      now,
      e.pending ? null : now,
    );
    this.eventAppended = true;
    return Number(info.lastInsertRowid);
  }

  /** Appends one event in its own transaction (how side effects report back). */
  report(e: EventInput): number {
    return this.transaction(() => this.event({ ...e, pending: true } as EventInput));
  }

  onPatches(listener: PatchListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Called after every commit that appended an event, pending or not (wakes the reconciler:
   * any change may make a bead ready, so nothing waits for its timer).
   */
  onEventsWritten(listener: () => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  newBeadId(prefix: string): string {
    // The highest rowid stands in for the count: it grows with every insert and costs one
    // b-tree step, where count(*) walked the whole table on every new bead.
    const count = this.get<{ n: number | null }>('SELECT max(rowid) AS n FROM beads')!.n ?? 0;
    return newBeadId(prefix, count, (id) => this.get('SELECT 1 FROM beads WHERE id = ?', id) !== undefined);
  }

  setting<T>(key: string, fallback: T): T {
    const row = this.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', key);
    return row ? (JSON.parse(row.value) as T) : fallback;
  }

  setSetting(key: string, value: unknown) {
    this.touch('setting', key);
    this.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', key, JSON.stringify(value));
  }

  private publish() {
    const wake = this.eventAppended;
    this.eventAppended = false;
    if (this.touched.size > 0) {
      const touched = [...this.touched.values()];
      this.touched.clear();
      const patches: Patch[] = touched.map(({ kind, id }) => ({
        revision: ++this.rev,
        kind,
        id,
        value: entityView(this, kind, id),
      }));
      for (const l of this.listeners) {
        try {
          l(patches);
        } catch {
          // a failing listener must not break the writer
        }
      }
    }
    if (wake) for (const l of this.eventListeners) l();
  }
}
