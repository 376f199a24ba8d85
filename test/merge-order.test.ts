// The merge queue's order: priority, then convoy age, then MR age, each retry a penalty;
// the overseer's moves put an MR at a place and the rest keep their order around it.
import { describe, expect, it } from 'vitest';
import { orderMergeQueue, type QueuedMergeRequest } from '../src/main/reconciler/merge-order';

const MIN = 60_000;
const PENALTY = 10 * MIN;
const mr = (id: string, o: Partial<QueuedMergeRequest> = {}): QueuedMergeRequest => ({
  id, priority: 2, convoy_since: null, created_at: 0, attempts: 0, position: null, moved_at: null, ...o,
});
const ids = (mrs: QueuedMergeRequest[]) => orderMergeQueue(mrs, PENALTY).map((m) => m.id);

describe('merge queue order', () => {
  it('takes higher priority first, whatever the age', () => {
    expect(ids([mr('old', { created_at: 0, priority: 3 }), mr('urgent', { created_at: 50 * MIN, priority: 0 })])).toEqual(['urgent', 'old']);
  });

  it('within a priority, members of an older convoy go before a newer MR outside it', () => {
    const q = [
      mr('alone', { created_at: 5 * MIN }),
      mr('convoy-late', { created_at: 9 * MIN, convoy_since: 1 * MIN }),
      mr('newest-convoy', { created_at: 6 * MIN, convoy_since: 8 * MIN }),
    ];
    expect(ids(q)).toEqual(['convoy-late', 'alone', 'newest-convoy']);
  });

  it('within one convoy, the older MR goes first', () => {
    expect(ids([mr('b', { created_at: 3 * MIN, convoy_since: 0 }), mr('a', { created_at: 2 * MIN, convoy_since: 0 })])).toEqual(['a', 'b']);
  });

  it('each retry counts as the penalty younger: one retry yields to a slightly newer MR, not to a much newer one', () => {
    const retried = mr('retried', { created_at: 0, attempts: 1 });
    expect(ids([retried, mr('newer', { created_at: 5 * MIN })])).toEqual(['newer', 'retried']);
    expect(ids([retried, mr('much-newer', { created_at: 15 * MIN })])).toEqual(['retried', 'much-newer']);
    // the penalty never crosses a priority
    expect(ids([mr('retried-urgent', { priority: 1, attempts: 5 }), mr('fresh', { created_at: 60 * MIN })])).toEqual(['retried-urgent', 'fresh']);
  });

  it('an MR moved to position 1 is next, and one moved to 3 has two before it', () => {
    const q = [mr('a', { created_at: 1 }), mr('b', { created_at: 2 }), mr('c', { created_at: 3 }), mr('d', { created_at: 4, position: 1, moved_at: 10 })];
    expect(ids(q)).toEqual(['d', 'a', 'b', 'c']);
    const q2 = [mr('a', { created_at: 1, position: 3, moved_at: 10 }), mr('b', { created_at: 2 }), mr('c', { created_at: 3 }), mr('d', { created_at: 4 })];
    expect(ids(q2)).toEqual(['b', 'c', 'a', 'd']);
  });

  it('two MRs moved to the same place: the latest move takes it, the earlier one comes right after', () => {
    const q = [mr('a'), mr('x', { position: 1, moved_at: 10 }), mr('y', { position: 1, moved_at: 20 })];
    expect(ids(q)).toEqual(['y', 'x', 'a']);
  });

  it('a place past the end puts the MR last, not lost', () => {
    expect(ids([mr('a', { created_at: 1 }), mr('z', { position: 9, moved_at: 1 })])).toEqual(['a', 'z']);
  });
});
