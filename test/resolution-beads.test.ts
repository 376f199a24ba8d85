// A conflict's resolution bead and its blocked MR end together, on a real store with a fake
// clock and recorded effects: the overseer's retry or reject supersedes the resolution (closed,
// its agent stopped, a late done ignored); a resolution that ends unresolved fails the MR and
// asks the overseer, instead of leaving it blocked and its convoy waiting for ever.
import { afterEach, describe, expect, it } from 'vitest';
import { acceptDone } from '../src/main/reconciler/transitions';
import { checkInvariants } from '../src/main/reconciler/invariants';
import { failUnresolvedConflict, supersedeResolution } from '../src/main/reconciler/resolution-beads';
import { readConfig } from '../src/main/reconciler/config';
import { refineryAgentId } from '../src/main/store/rigs';
import { getAgent, getBead, getMergeRequest } from '../src/main/store/views';
import { ruleTown } from './helpers/rule-town';
import { removeTempDirs } from './helpers/town';

afterEach(() => removeTempDirs());

/** A convoy of two; the first bead's MR conflicted and waits on a resolution bead, hooked to its polecat. */
async function blockedMerge(o: { oneAttempt?: boolean } = {}) {
  const t = await ruleTown();
  const { town, store, reconciler, effects } = t;
  if (o.oneAttempt) await town.call('town.config', { set: { 'dispatch.max_attempts': 1, 'health.crash_restarts': 0 } });
  const bead = (await town.call('bead.create', { rig: 'app', title: 'Changelog for 1.1' })).id;
  const spare = (await town.call('bead.create', { rig: 'app', title: 'Changelog for the API' })).id;
  const convoy = (await town.call('convoy.create', { title: 'Release', beads: [bead, spare] })).id;
  await town.call('convoy.start', { convoy });
  await reconciler.tick();
  const starts = effects.take('start_session');
  const start = starts.find((e) => e.bead === bead)!;
  const session = t.spawned(start);
  await reconciler.tick();
  store.transaction(() => acceptDone(store, start.agent, bead, { status: 'completed', summary: null, headSha: 'a'.repeat(40) }));
  store.report({ type: 'session.exited', agent: start.agent, bead, payload: { session, exit_code: 0 } });
  await reconciler.tick();
  const mr = store.get<{ id: string }>('SELECT id FROM merge_requests WHERE source_bead_id = ?', bead)!.id;
  const conflict = async () => {
    store.report({ type: 'refinery.failed', bead, agent: refineryAgentId('app'), payload: { mr, failure_type: 'conflict', tail: 'CONFLICT (content): shared.md', files: ['shared.md'] } });
    await reconciler.tick();
    const resolution = getMergeRequest(store, mr)!.resolution_bead!;
    expect(getMergeRequest(store, mr)!.state).toBe('blocked');
    return { resolution, start: effects.take('start_session').find((e) => e.bead === resolution) };
  };
  const first = await conflict();
  expect(first.start!.agent).toBe(start.agent);
  t.spawned(first.start!);
  await reconciler.tick();
  expect(getAgent(store, start.agent)!.hook_bead_id).toBe(first.resolution);
  return { ...t, bead, spare, spareStart: starts.find((e) => e.bead === spare)!, convoy, agent: start.agent, mr, resolution: first.resolution, conflict };
}

const escalationsOf = (store: any, bead: string) => store.all('SELECT reason, body FROM escalations WHERE bead_id = ?', bead) as { reason: string; body: string }[];
const eventsOf = (store: any, type: string) => store.all('SELECT payload FROM events WHERE type = ?', type).map((e: any) => JSON.parse(e.payload));

describe('the overseer retries or rejects a blocked MR', () => {
  it('retry closes its resolution bead as superseded and stops its agent; that bead\'s late done never re-queues the MR', async () => {
    const t = await blockedMerge();
    const { store, town, reconciler } = t;
    await town.call('mr.retry', { mr: t.mr });

    const resolution = getBead(store, t.resolution)!;
    expect(resolution.status).toBe('closed');
    expect(resolution.close_reason).toBe(`superseded: ${t.mr} retried by the overseer`);
    expect(getAgent(store, t.agent)!.hook_bead_id).toBeNull();
    expect(eventsOf(store, 'mr.resolution_superseded')).toEqual([{ mr: t.mr, resolution: t.resolution, by: 'retry', agent: t.agent }]);
    expect(getMergeRequest(store, t.mr)!.state).toBe('queued');

    // The retried MR conflicts again: a new resolution bead is what it waits on now.
    await reconciler.tick();
    expect(getMergeRequest(store, t.mr)!.state).toBe('claimed');
    const second = await t.conflict();
    expect(second.resolution).not.toBe(t.resolution);

    // The first resolution's done arrives late: refused, and the MR still waits on the second.
    expect(() => store.transaction(() => acceptDone(store, t.agent, t.resolution, { status: 'completed', summary: null, headSha: 'f'.repeat(40) }))).toThrow(/no longer holds/);
    expect(getMergeRequest(store, t.mr)).toMatchObject({ state: 'blocked', head_sha: 'a'.repeat(40), resolution_bead: second.resolution });
    expect(checkInvariants(store)).toEqual([]);
  });

  it('a done from an agent still holding the superseded bead (its stop under way) is refused and changes nothing', async () => {
    const t = await blockedMerge();
    const { store } = t;
    // As mr.retry does, before the agent's stop is verified: the MR is queued again, its resolution closed.
    store.transaction(() => {
      const mr = getMergeRequest(store, t.mr)!;
      store.run(`UPDATE merge_requests SET state = 'queued', blocked_reason = NULL WHERE id = ?`, t.mr);
      supersedeResolution(store, mr, 'retry');
    });
    expect(getAgent(store, t.agent)!.hook_bead_id).toBe(t.resolution);
    expect(() => store.transaction(() => acceptDone(store, t.agent, t.resolution, { status: 'completed', summary: null, headSha: 'f'.repeat(40) }))).toThrow(/is closed \(superseded/);
    expect(getMergeRequest(store, t.mr)).toMatchObject({ state: 'queued', head_sha: 'a'.repeat(40) });
    expect(getBead(store, t.resolution)!.close_reason).toContain('superseded');
  });

  it('reject closes its resolution bead as superseded and stops its agent; the MR stays rejected', async () => {
    const t = await blockedMerge();
    const { store, town, reconciler } = t;
    await town.call('mr.reject', { mr: t.mr, reason: 'the changelog moves elsewhere' });

    expect(getBead(store, t.resolution)).toMatchObject({ status: 'closed', close_reason: `superseded: ${t.mr} rejected by the overseer` });
    expect(getAgent(store, t.agent)!.hook_bead_id).toBeNull();
    expect(eventsOf(store, 'mr.resolution_superseded')).toEqual([{ mr: t.mr, resolution: t.resolution, by: 'reject', agent: t.agent }]);
    expect(() => store.transaction(() => acceptDone(store, t.agent, t.resolution, { status: 'completed', summary: null, headSha: 'f'.repeat(40) }))).toThrow(/no longer holds/);
    await reconciler.tick();
    expect(getMergeRequest(store, t.mr)).toMatchObject({ state: 'failed', failure_type: 'rejected', head_sha: 'a'.repeat(40) });
    // The superseded bead ending is not an unresolved conflict: no escalation for it.
    expect(escalationsOf(store, t.bead)).toEqual([]);
  });
});

describe('a resolution bead that ends unresolved', () => {
  it('failing (dispatch attempts exhausted) fails the MR as a conflict with the reason and one escalation; the convoy waits; retry re-queues', async () => {
    const t = await blockedMerge({ oneAttempt: true });
    const { store, town, reconciler } = t;
    // The resolution's run crashes without done: with one attempt and no restart allowed, the bead fails.
    const session = getAgent(store, t.agent)!.session_id!;
    store.report({ type: 'session.exited', agent: t.agent, bead: t.resolution, payload: { session, exit_code: 1 } });
    await reconciler.tick();
    // The bead's status event it wrote is drained by the next tick (the engine wakes for it).
    await reconciler.tick();
    expect(getBead(store, t.resolution)!.status).toBe('failed');

    const mr = getMergeRequest(store, t.mr)!;
    expect(mr).toMatchObject({ state: 'failed', failure_type: 'conflict', blocked_reason: null });
    expect(mr.failure_tail!.split('\n').pop()).toMatch(new RegExp(`^resolution bead ${t.resolution} failed`));
    expect(getBead(store, t.bead)!.status).toBe('failed');
    const esc = escalationsOf(store, t.bead);
    expect(esc.map((e) => e.reason)).toEqual([`merge conflict of ${t.mr} left unresolved`]);
    expect(esc[0].body).toContain(t.resolution);
    expect(esc[0].body).toContain(`convoy ${t.convoy}`);
    expect(esc[0].body).toContain(`town mq retry ${t.mr}`);

    // Idempotent: the pass again (as after a crash before the event was marked) does nothing twice.
    const events = store.get<{ n: number }>('SELECT count(*) AS n FROM events')!.n;
    store.transaction(() => failUnresolvedConflict(store, readConfig(store), t.resolution));
    expect(store.get<{ n: number }>('SELECT count(*) AS n FROM events')!.n).toBe(events);

    // The other member merges; the convoy still does not land with this one unmerged.
    t.spawned(t.spareStart);
    await reconciler.tick();
    store.transaction(() => acceptDone(store, t.spareStart.agent, t.spare, { status: 'completed', summary: null, headSha: 'c'.repeat(40) }));
    await reconciler.tick();
    const spareMr = store.get<{ id: string }>('SELECT id FROM merge_requests WHERE source_bead_id = ?', t.spare)!.id;
    store.report({ type: 'refinery.merged', bead: t.spare, agent: refineryAgentId('app'), payload: { mr: spareMr, merge_sha: 'd'.repeat(40) } });
    await reconciler.tick();
    await reconciler.tick();
    expect(getBead(store, t.spare)!.status).toBe('closed');
    const convoy = await town.call('convoy.show', { id: t.convoy });
    expect(convoy).toMatchObject({ status: 'active', stuck: true });
    expect(escalationsOf(store, t.bead)).toHaveLength(1);

    // The overseer retries: the MR queues again, its bead is in review, and the refinery takes it.
    await town.call('mr.retry', { mr: t.mr });
    expect(getBead(store, t.bead)!.status).toBe('in_review');
    await reconciler.tick();
    expect(getMergeRequest(store, t.mr)!.state).toBe('claimed');
    expect(checkInvariants(store)).toEqual([]);
  });

  it('closed by the overseer without a done fails the MR with that reason', async () => {
    const t = await blockedMerge();
    const { store, town, reconciler } = t;
    await town.call('agent.stop', { agent: t.agent, hold: false });
    await town.call('bead.close', { id: t.resolution, reason: 'not worth it' });
    await reconciler.tick();
    const mr = getMergeRequest(store, t.mr)!;
    expect(mr.state).toBe('failed');
    expect(mr.failure_tail).toContain(`resolution bead ${t.resolution} was closed without resolving it (not worth it)`);
    expect(eventsOf(store, 'mr.resolution_failed')).toEqual([{ mr: t.mr, resolution: t.resolution, status: 'closed', reason: 'not worth it' }]);
    expect(escalationsOf(store, t.bead)).toHaveLength(1);
  });
});
