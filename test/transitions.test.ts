// Status columns change only through their writers' transition tables: every pair a
// table forbids is tried and refused, and the row keeps its status.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_STATUSES, BEAD_STATUSES, MR_STATES } from '../src/shared/domain';
import { AGENT_TRANSITIONS, createAgent, setAgentStatus } from '../src/main/store/agents';
import { BEAD_TRANSITIONS, createBead, reopenBead, setBeadStatus } from '../src/main/store/beads';
import { CONVOY_TRANSITIONS, landConvoy, startConvoy } from '../src/main/store/convoys';
import { openDatabase } from '../src/main/store/database';
import { MR_TRANSITIONS, queueMergeRequest, setMergeRequestState } from '../src/main/store/merge-requests';
import { ForbiddenTransitionError, forbiddenPairs } from '../src/main/store/status-machine';
import { addRig } from '../src/main/store/rigs';
import { Store } from '../src/main/store/store';
import { FakeClock } from './helpers/fake-clock';
import { removeTempDirs, tempDir } from './helpers/town';

afterEach(() => removeTempDirs());

function newStore() {
  return new Store(openDatabase(path.join(tempDir('transitions'), 'town.db')), new FakeClock());
}

function withRig(store: Store) {
  store.transaction(() => addRig(store, { name: 'r', path: '/nowhere', branch: 'main', prefix: 'r', gates: [], setup: null, maxPolecats: 1, runtime: 'scripted', command: null, autoDispatch: false }));
  return store;
}

const work = { rig: null, type: 'task' as const, title: 't', body: '', priority: 2, labels: [], metadata: {}, origin: { kind: 'user' as const, id: 'overseer' } };

describe('transition tables', () => {
  it('refuses every forbidden bead transition, leaving the bead as it was', () => {
    const store = newStore();
    const pairs = forbiddenPairs(BEAD_TRANSITIONS);
    expect(pairs).toContainEqual(['closed', 'open']); // terminal beads leave only by reopen
    for (const [from, to] of pairs) {
      const id = store.transaction(() => createBead(store, work).id);
      store.run('UPDATE beads SET status = ? WHERE id = ?', from, id);
      expect(() => store.transaction(() => setBeadStatus(store, id, { status: to, cause: 'test' })), `${from} → ${to}`).toThrow(ForbiddenTransitionError);
      expect(store.get<{ status: string }>('SELECT status FROM beads WHERE id = ?', id)!.status).toBe(from);
    }
    expect(pairs.length).toBe(BEAD_STATUSES.length ** 2 - Object.values(BEAD_TRANSITIONS).flat().length);
  });

  it('lets the overseer reopen a terminal bead, and only a terminal one', () => {
    const store = newStore();
    const id = store.transaction(() => createBead(store, work).id);
    expect(() => store.transaction(() => reopenBead(store, id, 'test'))).toThrow(/not closed or failed/);
    store.transaction(() => setBeadStatus(store, id, { status: 'failed', cause: 'test' }));
    store.transaction(() => reopenBead(store, id, 'test'));
    expect(store.get<{ status: string }>('SELECT status FROM beads WHERE id = ?', id)!.status).toBe('open');
  });

  it('refuses every forbidden agent transition', () => {
    const store = newStore();
    const pairs = forbiddenPairs(AGENT_TRANSITIONS);
    expect(pairs).toContainEqual(['idle', 'working']); // an agent works only after starting
    let n = 0;
    for (const [from, to] of pairs) {
      const id = `a${n++}`;
      store.transaction(() => createAgent(store, { id, role: 'polecat', rig: null, name: id, runtime: null, worktree: null }));
      store.run('UPDATE agents SET status = ? WHERE id = ?', from, id);
      expect(() => store.transaction(() => setAgentStatus(store, id, to, { cause: 'test' })), `${from} → ${to}`).toThrow(ForbiddenTransitionError);
      expect(store.get<{ status: string }>('SELECT status FROM agents WHERE id = ?', id)!.status).toBe(from);
    }
    expect(pairs.length).toBe(AGENT_STATUSES.length ** 2 - Object.values(AGENT_TRANSITIONS).flat().length);
  });

  it('refuses to land a staged convoy or start a landed one', () => {
    const store = newStore();
    expect(forbiddenPairs(CONVOY_TRANSITIONS)).toContainEqual(['staged', 'landed']);
    const id = store.transaction(() => {
      const b = createBead(store, { ...work, type: 'convoy' });
      store.run(`INSERT INTO convoys (id, status) VALUES (?, 'staged')`, b.id);
      return b.id;
    });
    expect(() => store.transaction(() => landConvoy(store, id))).toThrow(ForbiddenTransitionError);
    store.run(`UPDATE convoys SET status = 'landed' WHERE id = ?`, id);
    expect(() => store.transaction(() => startConvoy(store, id))).toThrow(/landed, not staged/);
  });

  it('refuses every forbidden merge request transition, leaving the MR as it was', () => {
    const store = withRig(newStore());
    const pairs = forbiddenPairs(MR_TRANSITIONS);
    expect(pairs).toContainEqual(['merged', 'queued']); // a merged MR is never merged again
    expect(pairs).toContainEqual(['failed', 'claimed']);
    for (const [from, to] of pairs) {
      const source = store.transaction(() => createBead(store, work).id);
      const mr = store.transaction(() =>
        queueMergeRequest(store, { sourceBead: source, rig: 'r', branch: 'b', target: 'main', headSha: null, agent: 'a', title: 't', priority: 2 }).id,
      );
      store.run('UPDATE merge_requests SET state = ? WHERE id = ?', from, mr);
      expect(() => store.transaction(() => setMergeRequestState(store, mr, to)), `${from} → ${to}`).toThrow(ForbiddenTransitionError);
      expect(store.get<{ state: string }>('SELECT state FROM merge_requests WHERE id = ?', mr)!.state).toBe(from);
    }
    expect(pairs.length).toBe(MR_STATES.length ** 2 - Object.values(MR_TRANSITIONS).flat().length);
  });

  it('moves a merge request along the allowed path', () => {
    const store = withRig(newStore());
    const source = store.transaction(() => createBead(store, work).id);
    const mr = store.transaction(() =>
      queueMergeRequest(store, { sourceBead: source, rig: 'r', branch: 'b', target: 'main', headSha: null, agent: 'a', title: 't', priority: 2 }).id,
    );
    for (const to of ['claimed', 'merging', 'testing', 'merged'] as const) store.transaction(() => setMergeRequestState(store, mr, to));
    expect(store.get<{ state: string }>('SELECT state FROM merge_requests WHERE id = ?', mr)!.state).toBe('merged');
  });
});
