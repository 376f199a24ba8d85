// A failed push as the store records it: the MR fails with `needs-retry`, its bead stays in
// review (the health rule leaves it there), the overseer is told; retryPush queues it again
// and is refused for an MR that failed for another reason.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBead, setBeadStatus } from '../src/main/store/beads';
import { openDatabase } from '../src/main/store/database';
import { listEscalations } from '../src/main/store/escalations';
import { queueMergeRequest, setMergeRequestState } from '../src/main/store/merge-requests';
import { addRig } from '../src/main/store/rigs';
import { Store } from '../src/main/store/store';
import { getBead, getMergeRequest, type EventRow } from '../src/main/store/views';
import { readConfig } from '../src/main/reconciler/config';
import { refineryPushFailed, retryPush } from '../src/main/reconciler/push-handlers';
import { checkInvariants } from '../src/main/reconciler/invariants';
import { storeQueries } from '../src/main/reconciler/queries';
import { FakeClock } from './helpers/fake-clock';
import { removeTempDirs, tempDir } from './helpers/town';

afterEach(() => removeTempDirs());

function townWithMergeRequest() {
  const store = new Store(openDatabase(path.join(tempDir('push-retry'), 'town.db')), new FakeClock());
  return store.transaction(() => {
    addRig(store, { name: 'r', path: '/nowhere', branch: 'main', prefix: 'r', gates: [], setup: null, maxPolecats: 1, runtime: 'scripted', command: null, autoDispatch: false, remote: 'origin' });
    const source = createBead(store, { rig: 'r', type: 'task', title: 'work', body: '', priority: 2, labels: [], metadata: {}, origin: { kind: 'user', id: 'overseer' } });
    setBeadStatus(store, source.id, { status: 'in_progress', cause: 'test' });
    setBeadStatus(store, source.id, { status: 'in_review', cause: 'test' });
    const mr = queueMergeRequest(store, { sourceBead: source.id, rig: 'r', branch: 'b', target: 'main', headSha: null, agent: 'r/refinery', title: 'work', priority: 2 });
    for (const state of ['claimed', 'merging', 'testing'] as const) setMergeRequestState(store, mr.id, state);
    return { store, source: source.id, mr: mr.id };
  });
}

const pushFailed = (store: Store, mr: string) =>
  store.transaction(() =>
    refineryPushFailed({ store, config: readConfig(store) }, {} as EventRow, { mr, remote: 'origin', target: 'main', sha: 'a'.repeat(40), attempts: 4, tail: 'remote: permission denied' }),
  );

describe('a push that failed', () => {
  it('fails the MR with needs-retry, keeps its bead in review, escalates, and can be retried', () => {
    const { store, source, mr } = townWithMergeRequest();
    pushFailed(store, mr);
    expect(getMergeRequest(store, mr)).toMatchObject({ state: 'failed', failure_type: 'push' });
    expect(getMergeRequest(store, mr)!.failure_tail).toContain('remote: permission denied');
    expect(JSON.parse(getBead(store, mr)!.labels)).toContain('needs-retry');
    expect(getBead(store, source)!.status).toBe('in_review');
    // The health rule does not fail a bead whose merge waits for a push retry.
    expect(storeQueries(store).reviewsWithoutLiveMergeRequest()).toEqual([]);
    // Nor does invariant 4 count it as in review without a live merge request.
    expect(checkInvariants(store).filter((v) => v.invariant === 4)).toEqual([]);
    expect(listEscalations(store, false).map((e) => e.reason)).toEqual(['push to origin failed']);

    store.transaction(() => retryPush(store, mr));
    expect(getMergeRequest(store, mr)).toMatchObject({ state: 'queued', failure_type: null });
    expect(JSON.parse(getBead(store, mr)!.labels)).not.toContain('needs-retry');
    expect(() => store.transaction(() => retryPush(store, mr))).toThrow(/not waiting for a push retry/);
  });

  it('is the only failure retryPush requeues', () => {
    const { store, mr } = townWithMergeRequest();
    store.transaction(() => setMergeRequestState(store, mr, 'failed', { failure_type: 'gate:test', failure_tail: '1 failure' }));
    expect(() => store.transaction(() => retryPush(store, mr))).toThrow(/not waiting for a push retry/);
    expect(getMergeRequest(store, mr)!.state).toBe('failed');
  });
});
