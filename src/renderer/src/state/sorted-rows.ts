// A sorted selection of a table's rows kept up to date by patches: after one patch only the
// changed rows are taken out and put back (binary search), instead of scanning and sorting
// 10,000 beads again on every change the feed delivers.
import type { Table } from './feed';

export type Compare<T> = (a: T, b: T) => number;

export class SortedRows<T extends { id: string }> {
  private table: Table<T> | null = null;
  private rows: T[] = [];

  /** `compare` must be total (ties broken by id) so a row's position is exact. */
  constructor(
    private readonly keep: (row: T) => boolean,
    private readonly compare: Compare<T>,
  ) {}

  of(table: Table<T>): T[] {
    if (table === this.table) return this.rows;
    const changes = this.table ? table.changesSince(this.table) : null;
    this.rows = changes ? this.patched(changes) : this.scan(table);
    this.table = table;
    return this.rows;
  }

  private scan(table: Table<T>): T[] {
    const rows: T[] = [];
    for (const r of table.values()) if (this.keep(r)) rows.push(r);
    return rows.sort(this.compare);
  }

  private patched(changes: { before?: T; after?: T }[]): T[] {
    let rows: T[] | null = null;
    for (const { before, after } of changes) {
      const out = before !== undefined && this.keep(before);
      const inn = after !== undefined && this.keep(after);
      if (!out && !inn) continue;
      rows ??= this.rows.slice();
      if (out) {
        const i = this.indexOf(rows, before!);
        if (rows[i] === before) rows.splice(i, 1);
        else rows = rows.filter((r) => r.id !== before!.id); // compare changed under us: be safe
      }
      if (inn) rows.splice(this.indexOf(rows, after!), 0, after!);
    }
    return rows ?? this.rows;
  }

  /** The first position whose row does not sort before `row`. */
  private indexOf(rows: T[], row: T): number {
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(rows[mid], row) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Ties broken by id, so every row has one place. */
export const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
