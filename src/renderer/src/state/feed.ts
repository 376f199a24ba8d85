// The renderer's copy of the town: normalized entities at a revision. Pure functions,
// so patch application and gap detection are unit-tested without a browser.
import type { AgentView, BeadView, ConvoyView, EscalationView, MailView, MergeRequestView, Patch, RigView, SettingView, Snapshot } from '../../../shared/domain';

/**
 * An immutable table of entities by id. Its rows sit in 64 buckets, so a change copies
 * one bucket (~1/64 of the rows) instead of the whole table: one patch to a 10,000-bead
 * town costs microseconds, and untouched tables keep their identity for selectors.
 */
export class Table<T extends { id: string }> {
  private sorted: T[] | null = null;
  private constructor(
    private readonly buckets: ReadonlyArray<ReadonlyMap<string, T>>,
    readonly size: number,
  ) {}

  static of<T extends { id: string }>(rows: Iterable<T>): Table<T> {
    const buckets = Array.from({ length: BUCKETS }, () => new Map<string, T>());
    for (const r of rows) buckets[bucketOf(r.id)].set(r.id, r);
    return new Table(buckets, buckets.reduce((n, b) => n + b.size, 0));
  }

  get(id: string): T | undefined {
    return this.buckets[bucketOf(id)].get(id);
  }

  has(id: string): boolean {
    return this.buckets[bucketOf(id)].has(id);
  }

  /** Every row, in no particular order (the cheap way to scan). */
  *values(): IterableIterator<T> {
    for (const b of this.buckets) yield* b.values();
  }

  /** Every row by id, computed once per table. */
  list(): T[] {
    if (!this.sorted) this.sorted = [...this.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return this.sorted;
  }

  /**
   * The rows `pick` keeps (mapped), bucket by bucket. Results are remembered per bucket in
   * `memo`, so after a patch only the one changed bucket is scanned again.
   */
  select<R>(memo: BucketMemo<T, R>, pick: (row: T) => R | undefined): R[] {
    const out: R[] = [];
    for (const b of this.buckets) {
      let rows = memo.get(b);
      if (!rows) {
        rows = [];
        for (const row of b.values()) {
          const r = pick(row);
          if (r !== undefined) rows.push(r);
        }
        memo.set(b, rows);
      }
      for (const r of rows) out.push(r);
    }
    return out;
  }

  /**
   * The rows that differ from `before` (by identity), found by comparing buckets: after one
   * patch that is one bucket's rows. Null when the two share no history or too much changed.
   */
  changesSince(before: Table<T>, limit = 512): { before?: T; after?: T }[] | null {
    const out: { before?: T; after?: T }[] = [];
    for (let i = 0; i < BUCKETS; i++) {
      const a = before.buckets[i];
      const b = this.buckets[i];
      if (a === b) continue;
      if (out.length + a.size + b.size > limit * 2) return null;
      for (const [id, row] of a) if (b.get(id) !== row) out.push({ before: row, after: b.get(id) });
      for (const [id, row] of b) if (!a.has(id)) out.push({ after: row });
    }
    return out.length > limit ? null : out;
  }

  /** Like select, for a pick that yields several results per row (or none). */
  selectMany<R>(memo: BucketMemo<T, R>, pick: (row: T) => readonly R[]): R[] {
    const out: R[] = [];
    for (const b of this.buckets) {
      let rows = memo.get(b);
      if (!rows) {
        rows = [];
        for (const row of b.values()) for (const r of pick(row)) rows.push(r);
        memo.set(b, rows);
      }
      for (const r of rows) out.push(r);
    }
    return out;
  }

  /** This table with `id` set to `row` (or removed, for null). */
  with(id: string, row: T | null): Table<T> {
    const i = bucketOf(id);
    const had = this.buckets[i].has(id);
    if (row === null && !had) return this;
    const bucket = new Map(this.buckets[i]);
    if (row === null) bucket.delete(id);
    else bucket.set(id, row);
    const buckets = this.buckets.slice();
    buckets[i] = bucket;
    return new Table(buckets, this.size + (row === null ? -1 : had ? 0 : 1));
  }
}

/** Per-bucket results of Table.select; buckets are immutable, so their results never go stale. */
export type BucketMemo<T, R> = WeakMap<ReadonlyMap<string, T>, R[]>;

const BUCKETS = 64;
function bucketOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (Math.imul(h, 31) + id.charCodeAt(i)) | 0;
  return (h >>> 0) % BUCKETS;
}

export interface Entities {
  rig: Table<RigView>;
  bead: Table<BeadView>;
  convoy: Table<ConvoyView>;
  agent: Table<AgentView>;
  merge_request: Table<MergeRequestView>;
  mail: Table<MailView>;
  escalation: Table<EscalationView>;
  setting: Table<SettingView>;
}

export interface FeedState {
  revision: number;
  entities: Entities;
}

export function emptyFeed(): FeedState {
  const none = Table.of([]);
  return { revision: 0, entities: { rig: none, bead: none, convoy: none, agent: none, merge_request: none, mail: none, escalation: none, setting: none } as Entities };
}

export function fromSnapshot(s: Snapshot): FeedState {
  return {
    revision: s.revision,
    entities: {
      rig: Table.of(s.rigs),
      bead: Table.of(s.beads),
      convoy: Table.of(s.convoys),
      agent: Table.of(s.agents),
      merge_request: Table.of(s.merge_requests),
      mail: Table.of(s.mail),
      escalation: Table.of(s.escalations ?? []),
      setting: Table.of(s.settings),
    },
  };
}

export type ApplyResult =
  | { kind: 'applied'; state: FeedState; changed: boolean }
  /** A revision is missing: the state cannot be trusted past `state.revision`; fetch a snapshot. */
  | { kind: 'gap'; state: FeedState; expected: number; got: number };

/**
 * Applies patches in revision order. Revisions at or below the state's are already in
 * it (they raced the snapshot) and are skipped; a jump past revision + 1 is a gap.
 * Only the entity kinds a patch touches get new tables, so unrelated selectors keep
 * their identity.
 */
export function applyPatches(state: FeedState, patches: Patch[]): ApplyResult {
  let revision = state.revision;
  let entities = state.entities;
  for (const p of patches) {
    if (p.revision <= revision) continue;
    if (p.revision !== revision + 1) {
      return { kind: 'gap', state: { revision, entities }, expected: revision + 1, got: p.revision };
    }
    const table = entities[p.kind] as Table<{ id: string }>;
    const next = table.with(p.id, p.value as { id: string } | null);
    if (next !== table) entities = { ...entities, [p.kind]: next };
    revision = p.revision;
  }
  const changed = entities !== state.entities;
  return { kind: 'applied', state: changed || revision !== state.revision ? { revision, entities } : state, changed };
}
