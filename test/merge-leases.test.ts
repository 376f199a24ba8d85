// A merge claim is a lease: renewed by its run's progress, expiring only when it ran out and
// its holder is verified gone (no run of this engine holds it). The claim rule takes the
// queue in the order the views show. Fake clock; real store and reconciler.
import { afterEach, describe, expect, it } from 'vitest';
import { ApiDispatcher } from '../src/main/api/dispatcher';
import { inMemoryTransport } from '../src/main/api/in-memory-transport';
import { Reconciler } from '../src/main/reconciler/reconciler';
import { typedClient } from '../src/shared/api';
import { NO_SESSIONS } from './helpers/engine-context';
import { createBead, setBeadStatus } from '../src/main/store/beads';
import { queueMergeRequest } from '../src/main/store/merge-requests';
import { removeTempDirs } from './helpers/town';
import { RecordingEffects, ruleTown } from './helpers/rule-town';

afterEach(() => removeTempDirs());

const MIN = 60_000;
type T = Awaited<ReturnType<typeof ruleTown>>;

/** A bead done by its polecat, with its MR queued. */
function queued(t: T, title: string, priority = 2): { bead: string; mr: string } {
  return t.store.transaction(() => {
    const b = createBead(t.store, { rig: 'app', type: 'task', title, body: '', priority, labels: [], metadata: {}, origin: { kind: 'user', id: 'overseer' } });
    setBeadStatus(t.store, b.id, { status: 'in_progress', cause: 'test' });
    setBeadStatus(t.store, b.id, { status: 'in_review', cause: 'test' });
    const mr = queueMergeRequest(t.store, { sourceBead: b.id, rig: 'app', branch: `polecat/x/${b.id}`, target: 'main', headSha: 'abc', agent: 'app/polecats/x', title, priority });
    return { bead: b.id, mr: mr.id };
  });
}

const mrRow = (t: T, id: string) =>
  t.store.get<{ state: string; attempts: number; claimed_by: string | null; lease_until: number | null }>('SELECT * FROM merge_requests WHERE id = ?', id)!;
const leaseEvents = (t: T, id: string) =>
  t.store.all<{ payload: string }>(`SELECT payload FROM events WHERE type = 'mr.lease_expired' AND json_extract(payload, '$.mr') = ?`, id);

describe('merge claims are leases', () => {
  it('a claim whose holder is gone goes back to the queue once the lease (30 min) ran out, not before, and is claimed again', async () => {
    const t = await ruleTown();
    const { mr } = queued(t, 'one');
    await t.reconciler.tick();
    expect(t.effects.take('run_merge_request')).toEqual([{ type: 'run_merge_request', mr }]);
    expect(mrRow(t, mr)).toMatchObject({ state: 'claimed', claimed_by: expect.stringContaining('app/refinery'), lease_until: t.clock.now() + 30 * MIN });

    t.clock.advance(29 * MIN);
    await t.reconciler.tick();
    expect(mrRow(t, mr).state).toBe('claimed');
    expect(leaseEvents(t, mr)).toHaveLength(0);

    t.clock.advance(2 * MIN);
    await t.reconciler.tick(); // expired: back to the queue
    expect(leaseEvents(t, mr)).toHaveLength(1);
    expect(JSON.parse(leaseEvents(t, mr)[0].payload).evidence.summary).toMatch(/no run holds it/);
    await t.reconciler.tick(); // and claimed again, a second attempt
    expect(mrRow(t, mr)).toMatchObject({ state: 'claimed', attempts: 2 });
    expect(t.effects.take('run_merge_request')).toHaveLength(1);
  });

  it('gate progress renews the lease: a long run that keeps making progress is never taken away', async () => {
    const t = await ruleTown();
    const { mr, bead } = queued(t, 'long');
    await t.reconciler.tick();
    for (let i = 0; i < 6; i++) {
      t.clock.advance(20 * MIN);
      t.store.report({ type: 'mr.lease_renewed', agent: 'app/refinery', bead, payload: { mr, session: 'gate-x' } });
      await t.reconciler.tick();
      expect(mrRow(t, mr).state).toBe('claimed'); // two hours in, still held
    }
    t.clock.advance(31 * MIN);
    await t.reconciler.tick();
    expect(leaseEvents(t, mr)).toHaveLength(1);
  });

  it('a claim whose run is still under way in this engine is never expired, however long it is quiet', async () => {
    const t = await ruleTown();
    const { mr } = queued(t, 'held');
    const running = new Set<string>();
    const effects = new RecordingEffects();
    const reconciler = new Reconciler({ store: t.store, clock: t.clock, effects, worktreeRoot: t.worktreeRoot, mergeRunsInFlight: () => running });
    await reconciler.tick();
    expect(effects.take('run_merge_request')).toHaveLength(1);
    running.add(mr);
    t.clock.advance(3 * 60 * MIN);
    await reconciler.tick();
    expect(mrRow(t, mr).state).toBe('claimed');
    running.delete(mr); // the run is gone without a report
    await reconciler.tick();
    expect(leaseEvents(t, mr)).toHaveLength(1);
  });

  it('one MR per rig at a time: the next is claimed only when the first leaves the run', async () => {
    const t = await ruleTown();
    const a = queued(t, 'a');
    t.clock.advance(1000);
    const b = queued(t, 'b');
    await t.reconciler.tick();
    await t.reconciler.tick();
    expect(t.effects.take('run_merge_request').map((e) => e.mr)).toEqual([a.mr]);
    expect(mrRow(t, b.mr).state).toBe('queued');
  });
});

describe("the overseer's queue commands", () => {
  it("are refused to an agent: retry, reject and move are the overseer's", async () => {
    const t = await ruleTown();
    const { mr } = queued(t, 'mine');
    const dispatcher = new ApiDispatcher({ store: t.store, townDir: t.base, reconcilerMetrics: () => t.reconciler.metrics, ...NO_SESSIONS }, 'token');
    const agent = typedClient(inMemoryTransport(dispatcher, { kind: 'agent', agentId: 'app/polecats/x' }));
    for (const call of [
      () => agent.call('mr.retry', { mr }),
      () => agent.call('mr.reject', { mr, reason: 'no' }),
      () => agent.call('mr.move', { mr, position: 1 }),
    ]) await expect(call()).rejects.toMatchObject({ code: 'forbidden' });
    expect(mrRow(t, mr).state).toBe('queued');
  });
});

describe('the claim rule takes the queue in order', () => {
  it('priority first, then age; a moved MR goes first', async () => {
    const t = await ruleTown();
    const low = queued(t, 'low', 3);
    t.clock.advance(1000);
    const urgent = queued(t, 'urgent', 0);
    t.clock.advance(1000);
    const plain = queued(t, 'plain', 2);
    const list = await t.town.call('mr.list', { rig: 'app' });
    expect(list.map((e) => [e.id, e.position])).toEqual([[urgent.mr, 1], [plain.mr, 2], [low.mr, 3]]);

    const moved = await t.town.call('mr.move', { mr: low.mr, position: 1 });
    expect(moved.map((e) => e.id)).toEqual([low.mr, urgent.mr, plain.mr]);
    await t.reconciler.tick();
    expect(t.effects.take('run_merge_request').map((e) => e.mr)).toEqual([low.mr]);
    // the rest keep their order, and the list shows the running one on top
    const after = await t.town.call('mr.list', { rig: 'app' });
    expect(after.map((e) => [e.id, e.state, e.position])).toEqual([[low.mr, 'claimed', null], [urgent.mr, 'queued', 1], [plain.mr, 'queued', 2]]);
  });

  it('a place comes nearer as the head of the queue is claimed', async () => {
    const t = await ruleTown();
    const mrs = ['a', 'b', 'c', 'd'].map((x) => { t.clock.advance(1000); return queued(t, x).mr; });
    await t.town.call('mr.move', { mr: mrs[3], position: 3 });
    expect((await t.town.call('mr.list', { rig: 'app' })).map((e) => e.id)).toEqual([mrs[0], mrs[1], mrs[3], mrs[2]]);
    await t.reconciler.tick(); // a claimed
    expect((await t.town.call('mr.list', { rig: 'app' })).filter((e) => e.state === 'queued').map((e) => [e.id, e.position])).toEqual([[mrs[1], 1], [mrs[3], 2], [mrs[2], 3]]);
  });
});
