// Work nobody is doing goes back where someone can: a hook held by an agent with no live
// session is released after health.stale_in_progress_after, and a bead in review with no
// merge request left is resolved in the tick that sees it. Each says why in its event.
import { afterEach, describe, expect, it } from 'vitest';
import { createBead, setBeadStatus } from '../src/main/store/beads';
import { queueMergeRequest, setMergeRequestState } from '../src/main/store/merge-requests';
import { removeTempDirs } from './helpers/town';
import { ruleTown } from './helpers/rule-town';

afterEach(() => removeTempDirs());

const MIN = 60_000;
type T = Awaited<ReturnType<typeof ruleTown>>;

const bead = (t: T, id: string) => t.store.get<{ status: string; close_reason: string | null; dispatch_attempts: number }>('SELECT * FROM beads WHERE id = ?', id)!;
const lastCause = (t: T, id: string, status: string) =>
  JSON.parse(t.store.get<{ payload: string }>(`SELECT payload FROM events WHERE bead_id = ? AND type = ? ORDER BY seq DESC LIMIT 1`, id, `bead.${status}`)!.payload).cause as string;

async function slungBead(t: T) {
  const b = await t.town.call('bead.create', { rig: 'app', title: 'work' });
  await t.town.call('sling', { bead: b.id });
  await t.reconciler.tick();
  const [start] = t.effects.take('start_session');
  expect(start).toBeDefined();
  return { id: b.id, start };
}

/** A bead moved to in_review by the writers, with no agent holding it. */
function beadInReview(t: T): string {
  return t.store.transaction(() => {
    const b = createBead(t.store, { rig: 'app', type: 'task', title: 'reviewed', body: '', priority: 2, labels: [], metadata: {}, origin: { kind: 'user', id: 'overseer' } });
    setBeadStatus(t.store, b.id, { status: 'in_progress', cause: 'test' });
    setBeadStatus(t.store, b.id, { status: 'in_review', cause: 'test' });
    return b.id;
  });
}

function mergeRequestFor(t: T, source: string, end: 'merged' | 'failed', failureType = 'gate:test') {
  t.store.transaction(() => {
    const mr = queueMergeRequest(t.store, { sourceBead: source, rig: 'app', branch: 'polecat/x', target: 'main', headSha: 'abc', agent: 'app/polecats/x', title: 't', priority: 2 });
    setMergeRequestState(t.store, mr.id, 'claimed');
    if (end === 'merged') setMergeRequestState(t.store, mr.id, 'merged', { merge_sha: '0123456789abcdef' });
    else setMergeRequestState(t.store, mr.id, 'failed', { failure_type: failureType, failure_tail: 'boom' });
  });
}

describe('stale in_progress', () => {
  it('releases a hook whose session never spawned after the threshold, and reopens the bead saying so', async () => {
    const t = await ruleTown();
    const { id, start } = await slungBead(t);
    t.clock.advance(4 * MIN);
    await t.reconciler.tick();
    expect(bead(t, id).status).toBe('in_progress'); // a slow start is not stale yet
    t.clock.advance(2 * MIN);
    await t.reconciler.tick();
    expect(bead(t, id).status).toBe('open');
    expect(lastCause(t, id, 'open')).toBe(`starting on ${id} for 6 min and no session ever spawned`);
    expect(t.store.get<{ hook_bead_id: string | null }>('SELECT hook_bead_id FROM agents WHERE id = ?', start.agent)!.hook_bead_id).toBeNull();
  });

  it('releases a hook whose session ended without its exit being applied', async () => {
    const t = await ruleTown();
    const { id, start } = await slungBead(t);
    const session = t.spawned(start);
    await t.reconciler.tick();
    expect(t.store.get<{ status: string }>('SELECT status FROM agents WHERE id = ?', start.agent)!.status).toBe('working');
    // The exit report was lost (say, poisoned): the session row ended, the agent never heard.
    t.store.run('UPDATE sessions SET ended_at = ? WHERE id = ?', t.clock.now(), session);
    t.clock.advance(6 * MIN);
    await t.reconciler.tick();
    expect(bead(t, id).status).toBe('open');
    expect(lastCause(t, id, 'open')).toBe(`working on ${id}, but its session ${session} ended 6 min ago and its exit was never applied`);
    expect(t.store.get<{ status: string; hook_bead_id: string | null }>('SELECT status, hook_bead_id FROM agents WHERE id = ?', start.agent)).toEqual({ status: 'dead', hook_bead_id: null });
  });
});

describe('in review without a live merge request', () => {
  it('reopens a bead with no merge request at all, in the tick that sees it', async () => {
    const t = await ruleTown();
    const id = beadInReview(t);
    await t.reconciler.tick();
    expect(bead(t, id).status).toBe('open');
    expect(lastCause(t, id, 'open')).toBe('in review with no merge request; reopened so its branch is offered to the refinery again');
    expect(t.reconciler.metrics.violations).toEqual([]);
  });

  it('closes a bead whose merge request already merged', async () => {
    const t = await ruleTown();
    const id = beadInReview(t);
    mergeRequestFor(t, id, 'merged');
    await t.reconciler.tick();
    expect(bead(t, id).status).toBe('closed');
    expect(bead(t, id).close_reason).toMatch(/already merged it as 0123456789$/);
  });

  // A failed gate or setup goes back for a fix instead (test/rework-routing.test.ts).
  it('fails a bead whose merge request failed for a reason that is not the work\'s, rather than queue the same work again', async () => {
    const t = await ruleTown();
    const id = beadInReview(t);
    mergeRequestFor(t, id, 'failed', 'target-moved');
    await t.reconciler.tick();
    expect(bead(t, id).status).toBe('failed');
    expect(lastCause(t, id, 'failed')).toMatch(/its merge request \S+ failed \(target-moved\)/);
    expect(t.store.get<{ n: number }>(`SELECT count(*) AS n FROM merge_requests WHERE source_bead_id = ?`, id)!.n).toBe(1);
  });
});
