// The overseer's retry of an MR, and failure reports that arrive late. Real store, API and
// git repository; fake clock; no refinery run (the retry's effect is what the next run sees).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig } from '../src/main/reconciler/config';
import { EVENT_HANDLERS } from '../src/main/reconciler/event-handlers';
import { refineryPushFailed } from '../src/main/reconciler/push-handlers';
import { createBead, setBeadStatus } from '../src/main/store/beads';
import { createConvoy } from '../src/main/store/convoys';
import { listEscalations } from '../src/main/store/escalations';
import { queueMergeRequest, setMergeRequestState } from '../src/main/store/merge-requests';
import { getBead, getMergeRequest, type EventRow } from '../src/main/store/views';
import { gitIn } from './helpers/repo';
import { ruleTown } from './helpers/rule-town';
import { removeTempDirs } from './helpers/town';

afterEach(() => removeTempDirs());

type T = Awaited<ReturnType<typeof ruleTown>>;

/** A bead in review with its MR running (claimed, merging, testing). */
function runningMergeRequest(t: T) {
  return t.store.transaction(() => {
    const b = createBead(t.store, { rig: 'app', type: 'task', title: 'work', body: '', priority: 2, labels: [], metadata: {}, origin: { kind: 'user', id: 'overseer' } });
    setBeadStatus(t.store, b.id, { status: 'in_progress', cause: 'test' });
    setBeadStatus(t.store, b.id, { status: 'in_review', cause: 'test' });
    const mr = queueMergeRequest(t.store, { sourceBead: b.id, rig: 'app', branch: `polecat/x/${b.id}`, target: 'main', headSha: null, agent: 'app/polecats/x', title: 'work', priority: 2 });
    for (const s of ['claimed', 'merging', 'testing'] as const) setMergeRequestState(t.store, mr.id, s);
    return { bead: b.id, mr: mr.id };
  });
}

const labelsOf = (t: T, id: string) => JSON.parse(getBead(t.store, id)!.labels) as string[];

describe('retrying an MR', () => {
  it('of a convoy landing merges what the convoy branch holds now, and leaves the convoy bead alone', async () => {
    const t = await ruleTown();
    const convoy = t.store.transaction(() => createConvoy(t.store, 'Land together', [], 'integration'));
    const branch = `convoy/${convoy}`;
    gitIn(t.repo, 'branch', branch, 'main');
    const landedTip = gitIn(t.repo, 'rev-parse', branch);
    const mr = t.store.transaction(() => {
      const m = queueMergeRequest(t.store, { sourceBead: convoy, rig: 'app', branch, target: 'main', headSha: landedTip, agent: 'app/refinery', title: 'Land together', priority: 2 });
      for (const s of ['claimed', 'merging', 'testing'] as const) setMergeRequestState(t.store, m.id, s);
      setMergeRequestState(t.store, m.id, 'failed', { failure_type: 'gate:test', failure_tail: '1 failing' });
      return m.id;
    });
    const convoyBefore = getBead(t.store, convoy)!.status;
    // The overseer fixes the failure on the convoy branch, then retries.
    gitIn(t.repo, 'checkout', '-q', branch);
    fs.writeFileSync(path.join(t.repo, 'fix.md'), 'fixed\n');
    gitIn(t.repo, 'add', '.');
    gitIn(t.repo, 'commit', '-q', '-m', 'fix the landing');
    gitIn(t.repo, 'checkout', '-q', 'main');
    const fixedTip = gitIn(t.repo, 'rev-parse', branch);

    await t.town.call('mr.retry', { mr });
    expect(getMergeRequest(t.store, mr)).toMatchObject({ state: 'queued', head_sha: fixedTip });
    expect(getBead(t.store, convoy)!.status).toBe(convoyBefore);
  });

  it('that failed on its push retries the push (retryPush), not a rework of the work', async () => {
    const t = await ruleTown();
    const { bead, mr } = runningMergeRequest(t);
    t.store.transaction(() =>
      refineryPushFailed({ store: t.store, config: readConfig(t.store) }, {} as EventRow, { mr, remote: 'origin', target: 'main', sha: 'a'.repeat(40), attempts: 3, tail: 'remote busy' }),
    );
    expect(labelsOf(t, mr)).toContain('needs-retry');

    await t.town.call('mr.retry', { mr });
    expect(getMergeRequest(t.store, mr)).toMatchObject({ state: 'queued', failure_type: null });
    // Only retryPush takes the label off: left on, the next failure would read as a push's again.
    expect(labelsOf(t, mr)).not.toContain('needs-retry');
    expect(getBead(t.store, bead)!.status).toBe('in_review');
  });
});

describe('a failure report of an MR that has moved on', () => {
  it('is ignored: an MR back in the queue (its lease expired, or retried) is judged by its next run', async () => {
    const t = await ruleTown();
    const { bead, mr } = runningMergeRequest(t);
    // The run's lease ran out and the MR went back to the queue; then its old run reports.
    t.store.transaction(() => setMergeRequestState(t.store, mr, 'queued'));
    t.store.transaction(() =>
      EVENT_HANDLERS['refinery.failed']!({ store: t.store, config: readConfig(t.store) } as never, {} as EventRow, { mr, failure_type: 'gate:test', tail: '1 failing', exit_code: 1 } as never),
    );
    expect(getMergeRequest(t.store, mr)).toMatchObject({ state: 'queued', failure_type: null });
    expect(getBead(t.store, bead)!.status).toBe('in_review');
    expect(labelsOf(t, bead)).not.toContain('needs-fix');
    expect(listEscalations(t.store, false)).toEqual([]);
  });
});
