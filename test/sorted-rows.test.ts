// SortedRows follows patches by moving only the changed rows; after any sequence of patches
// its rows equal a full filter-and-sort of the table.
import { describe, expect, it } from 'vitest';
import { Table } from '../src/renderer/src/state/feed';
import { byId, SortedRows } from '../src/renderer/src/state/sorted-rows';
import { mulberry32 } from './helpers/prng';

interface Row { id: string; rank: number; open: boolean }
const keep = (r: Row) => r.open;
const compare = (a: Row, b: Row) => a.rank - b.rank || byId(a, b);
const full = (t: Table<Row>) => [...t.values()].filter(keep).sort(compare);

describe('SortedRows', () => {
  it('equals a full sort after random inserts, updates, moves out and deletes', () => {
    const rand = mulberry32(7);
    const n = (k: number) => Math.floor(rand() * k);
    let table = Table.of(Array.from({ length: 2000 }, (_, i) => ({ id: `b-${i}`, rank: n(5), open: n(4) > 0 })));
    const rows = new SortedRows<Row>(keep, compare);
    expect(rows.of(table)).toEqual(full(table));
    for (let step = 0; step < 400; step++) {
      const before = table;
      const id = `b-${n(2100)}`;
      table = n(10) === 0 ? table.with(id, null) : table.with(id, { id, rank: n(5), open: n(4) > 0 });
      const got = rows.of(table);
      expect(got).toEqual(full(table));
      // An untouched table gives back the very same array (selectors keep their identity).
      expect(rows.of(table)).toBe(got);
      if (before === table) expect(got).toBe(rows.of(before));
    }
  });

  it('an unchanged row set keeps the previous array', () => {
    const table = Table.of([{ id: 'a', rank: 1, open: false }]);
    const rows = new SortedRows<Row>(keep, compare);
    const first = rows.of(table);
    expect(rows.of(table.with('b', { id: 'b', rank: 2, open: false }))).toBe(first);
  });
});
