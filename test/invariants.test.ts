// Each invariant of domain.md shown being caught: a healthy town on a real SQLite store is
// corrupted with raw SQL (what no writer would do), and checkInvariants must name it. Then
// the reconciler records a violation once (not on every tick) and once when it clears.
import { afterEach, describe, expect, it } from 'vitest';
import { checkInvariants, ORPHAN_SESSION_GRACE_MS } from '../src/main/reconciler/invariants';
import { Reconciler } from '../src/main/reconciler/reconciler';
import { removeTempDirs } from './helpers/town';
import { healthyTown, RecordingEffects, type WorkingTown } from './helpers/working-town';

afterEach(() => removeTempDirs());

type Town = WorkingTown;

const CASES: { name: string; invariant: number; corrupt: (t: Town) => void | Promise<void>; names: (t: Town) => RegExp }[] = [
  {
    name: 'two agents hooked to one bead',
    invariant: 1,
    corrupt: (t) => {
      t.sql('DROP INDEX agents_one_per_hook'); // the schema's own guard, removed to show the check catches it
      t.addAgent('app/polecats/second', 'idle', t.work, null);
    },
    names: (t) => new RegExp(`${t.work} is hooked by 2 agents`),
  },
  {
    name: 'live sessions of two agents on one bead',
    invariant: 1,
    corrupt: (t) => {
      t.addAgent('app/polecats/second', 'working', t.spare, 's2');
      t.addSession('s2', 'app/polecats/second', t.work);
    },
    names: (t) => new RegExp(`${t.work} has live sessions of 2 agents`),
  },
  {
    name: 'a working agent without a hook',
    invariant: 2,
    corrupt: (t) => {
      t.addAgent('app/polecats/second', 'working', null, 's2');
      t.addSession('s2', 'app/polecats/second', null);
    },
    names: () => /working agent app\/polecats\/second has no hooked bead/,
  },
  {
    name: 'a working agent whose session ended',
    invariant: 2,
    corrupt: (t) => void t.sql('UPDATE sessions SET ended_at = ? WHERE id = ?', t.clock.now(), 's1'),
    names: (t) => new RegExp(`working agent ${t.agent} has no live session \\(s1 ended\\)`),
  },
  {
    name: 'a stalled agent with no session at all',
    invariant: 2,
    corrupt: (t) => {
      t.addAgent('app/polecats/second', 'stalled', t.spare, null);
    },
    names: () => /stalled agent app\/polecats\/second has no live session \(none recorded\)/,
  },
  {
    name: 'a live session its agent does not own, past the grace',
    invariant: 2,
    corrupt: (t) => {
      t.addSession('s-old', t.agent, t.work);
      t.clock.advance(ORPHAN_SESSION_GRACE_MS + 1000);
    },
    names: (t) => new RegExp(`live session s-old is not the session of its agent ${t.agent}`),
  },
  {
    name: 'a live session of an agent not in the store',
    invariant: 2,
    corrupt: (t) => {
      t.sql('PRAGMA foreign_keys = OFF');
      t.addSession('s-ghost', 'app/polecats/ghost', t.spare);
      t.clock.advance(ORPHAN_SESSION_GRACE_MS + 1000);
    },
    names: () => /live session s-ghost belongs to no agent/,
  },
  {
    name: 'two merge requests in flight on one rig',
    invariant: 3,
    corrupt: (t) => {
      t.addMr('ap-mr1', t.work, 'merging');
      t.addMr('ap-mr2', t.spare, 'testing');
    },
    names: (t) => new RegExp(`rig ${t.rig} has 2 merge requests in flight`),
  },
  {
    name: 'in review without a live merge request',
    invariant: 4,
    corrupt: (t) => {
      t.sql(`UPDATE beads SET status = 'in_review' WHERE id = ?`, t.spare);
      t.addMr('ap-mr1', t.spare, 'failed');
    },
    names: (t) => new RegExp(`${t.spare} is in review without a live merge request`),
  },
  {
    name: 'a closed bead an agent still works on',
    invariant: 5,
    corrupt: (t) => void t.sql(`UPDATE beads SET status = 'closed', closed_at = ? WHERE id = ?`, t.clock.now(), t.work),
    names: (t) => new RegExp(`${t.work} is closed but ${t.agent} still runs on it`),
  },
  {
    name: 'a landed convoy with a member not closed',
    invariant: 6,
    corrupt: async (t) => {
      const c = await t.town.call('convoy.create', { title: 'c', beads: [t.spare] });
      t.sql(`UPDATE convoys SET status = 'landed' WHERE id = ?`, c.id);
    },
    names: (t) => new RegExp(`landed convoy .* has members not closed: ${t.spare} open`),
  },
];

describe('invariants', () => {
  it('hold in a healthy town with an agent at work', async () => {
    const t = await healthyTown();
    expect(t.store.get<{ status: string }>('SELECT status FROM agents WHERE id = ?', t.agent)!.status).toBe('working');
    expect(checkInvariants(t.store)).toEqual([]);
  });

  for (const c of CASES) {
    it(`catch ${c.name} (invariant ${c.invariant})`, async () => {
      const t = await healthyTown();
      await c.corrupt(t);
      const found = checkInvariants(t.store);
      expect(found.map((v) => v.message)).toContainEqual(expect.stringMatching(c.names(t)));
      expect(found.find((v) => c.names(t).test(v.message))!.invariant).toBe(c.invariant);
    });
  }

  it('give a stray spawned long ago its grace from when its stop was asked, and count it again past that', async () => {
    const t = await healthyTown();
    // A late spawn (a laptop asleep between the spawn and the drain): old, but its stop was just asked.
    t.addSession('s-late', t.agent, t.work);
    t.clock.advance(2 * 3_600_000);
    t.sql('UPDATE sessions SET stop_requested_at = ? WHERE id = ?', t.clock.now(), 's-late');
    expect(checkInvariants(t.store)).toEqual([]);
    t.clock.advance(ORPHAN_SESSION_GRACE_MS + 1000);
    const found = checkInvariants(t.store).map((v) => v.message);
    expect(found).toContainEqual(expect.stringMatching(/live session s-late is not the session of its agent/));
  });

  it('let an agent that said done keep its hook while its session ends, even when the merge was quicker', async () => {
    const t = await healthyTown();
    t.sql(`UPDATE beads SET status = 'closed', closed_at = ? WHERE id = ?`, t.clock.now(), t.work);
    t.sql('UPDATE agents SET done_bead_id = ? WHERE id = ?', t.work, t.agent);
    expect(checkInvariants(t.store)).toEqual([]);
  });

  it('leave a session alone while it is being stopped after its launch was superseded (within the grace)', async () => {
    const t = await healthyTown();
    t.addSession('s-late', t.agent, t.work);
    expect(checkInvariants(t.store)).toEqual([]);
  });
});

describe('the reconciler and violations', () => {
  const events = (t: Town, type: string) => t.store.db.prepare(`SELECT payload FROM events WHERE type = ?`).all(type) as { payload: string }[];

  it('records a violation once while it lasts, logs it with the tick, and records when it clears', async () => {
    const t = await healthyTown();
    const c = await t.town.call('convoy.create', { title: 'c', beads: [t.spare] });
    t.sql(`UPDATE convoys SET status = 'landed' WHERE id = ?`, c.id);
    for (let i = 0; i < 5; i++) {
      await t.reconciler.tick();
      t.clock.advance(1000);
    }
    const violated = events(t, 'invariant.violated');
    expect(violated).toHaveLength(1);
    expect(JSON.parse(violated[0].payload)).toMatchObject({ invariant: 6, message: expect.stringContaining(`landed convoy ${c.id}`) });
    expect(t.reconciler.metrics.violations.map((v) => v.invariant)).toEqual([6]);
    expect((await t.town.call('town.status', {})).reconciler.violations).toEqual([expect.stringContaining(`landed convoy ${c.id}`)]);
    expect(t.logged.filter((l) => l.startsWith('invariant 6 violated'))).toEqual([expect.stringMatching(/\(tick: events \d+, actions .*, \d+(\.\d+)? ms\)/)]);

    t.sql(`UPDATE beads SET status = 'closed' WHERE id = ?`, t.spare);
    await t.reconciler.tick();
    await t.reconciler.tick();
    expect(events(t, 'invariant.cleared')).toHaveLength(1);
    expect(events(t, 'invariant.violated')).toHaveLength(1);
    expect(t.reconciler.metrics.violations).toEqual([]);
  });

  it('does not record an open violation again after a restart', async () => {
    const t = await healthyTown();
    t.sql(`UPDATE beads SET status = 'in_review' WHERE id = ?`, t.spare);
    t.addMr('ap-mr1', t.spare, 'failed');
    // No rule may repair it in this test: run only the drain and the checks.
    const quiet = () => new Reconciler({ store: t.store, clock: t.clock, effects: new RecordingEffects(), worktreeRoot: '/nowhere', rules: {} });
    await quiet().tick();
    await quiet().tick();
    expect(events(t, 'invariant.violated')).toHaveLength(1);
  });
});
