// Failed merges routed by the type the refinery reports, on a real store with a fake clock
// and recorded effects: what happens to the MR, the bead, its polecat, its convoy and the
// overseer on each path, and that the invariants hold throughout.
import { afterEach, describe, expect, it } from 'vitest';
import { acceptDone } from '../src/main/reconciler/transitions';
import { checkInvariants } from '../src/main/reconciler/invariants';
import { refineryAgentId } from '../src/main/store/rigs';
import { beadView, convoyView, getBead, getMergeRequest } from '../src/main/store/views';
import { rolePrompt } from '../src/main/runtimes/role-prompts';
import { ruleTown } from './helpers/rule-town';
import { removeTempDirs } from './helpers/town';

afterEach(() => removeTempDirs());

/** A bead in a started convoy, done by its polecat, its MR claimed by the refinery, its session over. */
async function claimedMerge(title = 'Add the parser') {
  const t = await ruleTown();
  const { town, store, reconciler, effects } = t;
  const bead = (await town.call('bead.create', { rig: 'app', title })).id;
  const spare = (await town.call('bead.create', { rig: 'app', title: 'later' })).id;
  const convoy = (await town.call('convoy.create', { title: 'Release', beads: [bead, spare] })).id;
  await town.call('convoy.start', { convoy });
  await reconciler.tick();
  const starts = effects.take('start_session');
  const start = starts.find((e) => e.bead === bead)!;
  const spareStart = starts.find((e) => e.bead === spare)!;
  const session = t.spawned(start);
  await reconciler.tick();
  store.transaction(() => acceptDone(store, start.agent, bead, { status: 'completed', summary: null, headSha: 'a'.repeat(40) }));
  store.report({ type: 'session.exited', agent: start.agent, bead, payload: { session, exit_code: 0 } });
  await reconciler.tick();
  const mr = store.get<{ id: string; state: string }>('SELECT id, state FROM merge_requests WHERE source_bead_id = ?', bead)!;
  expect(mr.state).toBe('claimed');
  effects.effects = [];
  const o = {
    ...t, bead, spare, spareStart, convoy, agent: start.agent, mr: mr.id,
    /** The refinery reports the (current) MR failed at `failure_type`; one tick applies it. */
    fail: async (failure_type: string, tail: string, files?: string[]) => {
      store.report({ type: 'refinery.failed', bead, agent: refineryAgentId('app'), payload: { mr: o.mr, failure_type, tail, ...(files ? { files } : {}) } });
      await reconciler.tick();
    },
  };
  return o;
}

const labelsOf = (store: any, id: string) => JSON.parse(getBead(store, id)!.labels) as string[];
const convoyStatus = (store: any, id: string) => store.get('SELECT status FROM convoys WHERE id = ?', id).status;
const mailTo = (store: any, to: string, kind: string) => store.all('SELECT * FROM mail WHERE to_addr = ? AND kind = ?', to, kind) as { subject: string; body: string }[];

describe('failed merges by type', () => {
  it('a conflict blocks the MR on a resolution bead hooked back to the same polecat; its done re-queues the MR with the resolved commit', async () => {
    const t = await claimedMerge('Changelog for 1.1');
    const { store, reconciler, effects } = t;
    await t.fail('conflict', 'merge conflict in:\nshared.md', ['shared.md']);

    const mr = getMergeRequest(store, t.mr)!;
    expect(mr.state).toBe('blocked');
    expect(mr.retry_at).toBeNull(); // waits for its resolution, not for a timer
    const resolution = store.get<{ id: string }>(`SELECT id FROM beads WHERE title = 'Resolve merge conflict: Changelog for 1.1'`)!;
    const view = beadView(store, getBead(store, resolution.id)!);
    expect(view).toMatchObject({ labels: ['needs-rebase'], priority: 0, rig: 'app', resolves: { mr: t.mr, bead: t.bead, files: ['shared.md'] } });
    expect(view.body).toContain('- shared.md');
    expect(view.depends_on).toEqual([]); // blocks-deps only; the link is the parent edge:
    expect(store.get(`SELECT 1 AS x FROM dependencies WHERE bead_id = ? AND depends_on_id = ? AND type = 'parent-child'`, resolution.id, t.bead)).toBeTruthy();
    expect(mr.blocked_reason).toContain(resolution.id);
    expect(getBead(store, t.bead)!.status).toBe('in_review');
    expect(convoyStatus(store, t.convoy)).toBe('active');
    expect(convoyView(store, t.convoy)!.rework).toEqual([{ bead: t.bead, why: `blocked on ${resolution.id}: resolve merge conflict in shared.md` }]);
    expect(mailTo(store, t.agent, 'rework')).toHaveLength(1);

    // The queue moves on meanwhile: the other bead's MR is claimed while this one waits.
    t.spawned(t.spareStart);
    await reconciler.tick();
    store.transaction(() => acceptDone(store, t.spareStart.agent, t.spare, { status: 'completed', summary: null, headSha: 'c'.repeat(40) }));
    await reconciler.tick();
    expect(store.get<{ state: string }>('SELECT state FROM merge_requests WHERE source_bead_id = ?', t.spare)!.state).toBe('claimed');
    expect(getMergeRequest(store, t.mr)!.state).toBe('blocked');

    // The same tick dispatched the resolution to the polecat that did the work, on that work's branch.
    const start = effects.take('start_session').find((e) => e.bead === resolution.id)!;
    expect(start.agent).toBe(t.agent);
    const name = t.agent.split('/').pop();
    expect(store.get<{ branch: string }>('SELECT branch FROM agents WHERE id = ?', t.agent)!.branch).toBe(`polecat/${name}/${t.bead}`);
    t.spawned(start);
    await reconciler.tick();
    expect(checkInvariants(store)).toEqual([]);

    store.transaction(() => acceptDone(store, t.agent, resolution.id, { status: 'completed', summary: null, headSha: 'b'.repeat(40) }));
    const after = getMergeRequest(store, t.mr)!;
    expect(after).toMatchObject({ state: 'queued', head_sha: 'b'.repeat(40), failure_type: null, blocked_reason: null });
    expect(getBead(store, resolution.id)!.status).toBe('closed');
    expect(store.all('SELECT id FROM merge_requests WHERE source_bead_id = ?', t.bead)).toHaveLength(1);
    await reconciler.tick();
    // Queued again, behind the merge in flight (one per rig).
    expect(getMergeRequest(store, t.mr)!.state).toBe('queued');
    expect(checkInvariants(store)).toEqual([]);
  });

  it('a failed gate sends the bead back to its polecat labelled needs-fix, with the tail in a rework mail; its convoy stays active', async () => {
    const t = await claimedMerge();
    const { store, effects } = t;
    await t.fail('gate:test', 'FAIL: work/x.fail: the tests fail');
    expect(getMergeRequest(store, t.mr)!.state).toBe('failed');
    expect(labelsOf(store, t.bead)).toContain('needs-fix');
    const mail = mailTo(store, t.agent, 'rework');
    expect(mail).toHaveLength(1);
    expect(mail[0].body).toContain('FAIL: work/x.fail');
    expect(convoyStatus(store, t.convoy)).toBe('active');
    expect(convoyView(store, t.convoy)!.rework).toEqual([{ bead: t.bead, why: 'needs-fix: its merge failed at gate:test' }]);
    // Dispatched again in the same tick, to the same polecat.
    const start = effects.take('start_session').find((e) => e.bead === t.bead)!;
    expect(start.agent).toBe(t.agent);
    expect(getBead(store, t.bead)!.status).toBe('in_progress');
    expect(store.all(`SELECT 1 FROM escalations`)).toHaveLength(0);
    expect(checkInvariants(store)).toEqual([]);
  });

  it('a failed setup is a rework labelled setup, not a test failure', async () => {
    const t = await claimedMerge();
    await t.fail('setup', 'npm ERR! missing lockfile');
    expect(labelsOf(t.store, t.bead)).toEqual(['setup']);
    expect(getMergeRequest(t.store, t.mr)!.failure_type).toBe('setup');
  });

  it('a missing branch fails the bead with its reason and tells the overseer', async () => {
    const t = await claimedMerge();
    await t.fail('branch-missing', 'polecat/quartz/ap-1 no longer exists; nothing to merge');
    expect(getBead(t.store, t.bead)!.status).toBe('failed');
    expect(getBead(t.store, t.bead)!.close_reason).toContain('branch-missing');
    const esc = t.store.all<{ reason: string; body: string }>('SELECT reason, body FROM escalations WHERE bead_id = ?', t.bead);
    expect(esc.map((e) => e.reason)).toEqual(['merge failed (branch-missing)']);
    expect(esc[0].body).toContain('no longer exists');
  });

  it('after mq.max_retries reworks the overseer is asked instead of another loop', async () => {
    const t = await claimedMerge();
    const { store, reconciler, town } = t;
    await town.call('town.config', { set: { 'mq.max_retries': 2 } });
    for (let round = 1; round <= 3; round++) {
      await t.fail('gate:test', `round ${round}`);
      if (round === 3) break;
      expect(getBead(store, t.bead)!.status).toBe('in_progress');
      const session = t.spawned(t.effects.take('start_session').find((e) => e.bead === t.bead)!);
      await reconciler.tick();
      store.transaction(() => acceptDone(store, t.agent, t.bead, { status: 'completed', summary: null, headSha: String(round).repeat(40) }));
      store.report({ type: 'session.exited', agent: t.agent, bead: t.bead, payload: { session, exit_code: 0 } });
      await reconciler.tick();
      t.mr = store.get<{ id: string }>(`SELECT id FROM merge_requests WHERE source_bead_id = ? AND state = 'claimed'`, t.bead)!.id;
      // Submitted again: the label that sent it back is gone.
      expect(labelsOf(store, t.bead)).not.toContain('needs-fix');
    }
    expect(getBead(store, t.bead)!.status).toBe('failed');
    expect(store.all<{ reason: string }>('SELECT reason FROM escalations WHERE bead_id = ?', t.bead).map((e) => e.reason)).toEqual(['merge keeps failing (gate:test) after 2 rework(s)']);
    expect(mailTo(store, t.agent, 'rework')).toHaveLength(2);
  });

  it('an in-review bead whose MR failed at a gate, with nothing left to run, goes back for a fix rather than failing', async () => {
    const t = await claimedMerge();
    const { store, reconciler } = t;
    // As if the refinery's report were lost: the MR failed with the bead still in review.
    store.transaction(() => store.run(`UPDATE merge_requests SET state = 'failed', failure_type = 'gate:test', failure_tail = 'boom' WHERE id = ?`, t.mr));
    await reconciler.tick();
    expect(labelsOf(store, t.bead)).toContain('needs-fix');
    expect(getBead(store, t.bead)!.status).not.toBe('failed');
    expect(checkInvariants(store)).toEqual([]);
  });

  it('the prompt of a bead in rework says why it came back and does not tell the agent it is done', async () => {
    const t = await claimedMerge();
    await t.fail('gate:test', 'FAIL');
    const agent = t.store.get<any>('SELECT * FROM agents WHERE id = ?', t.agent);
    const prior = { branch: 'polecat/quartz/x', target: 'main', commits: [{ sha: 'a'.repeat(40), subject: 'x' }] } as any;
    const prompt = rolePrompt(agent, beadView(t.store, getBead(t.store, t.bead)!), prior);
    expect(prompt).toContain('sent this bead back (needs-fix)');
    expect(prompt).not.toContain('If the work is already complete');
    const resolution = t.store.get<{ id: string }>(`SELECT id FROM beads WHERE title LIKE 'Resolve merge conflict:%'`);
    expect(resolution).toBeUndefined();
  });
});
