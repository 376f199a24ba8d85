// Reconciler rules on a real store with a fake clock and a recorded session host.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { typedClient, type TypedClient } from '../src/shared/api';
import type { Effect } from '../src/main/reconciler/effects';
import { Reconciler } from '../src/main/reconciler/reconciler';
import { openDatabase } from '../src/main/store/database';
import { Store } from '../src/main/store/store';
import { ApiDispatcher } from '../src/main/api/dispatcher';
import { inMemoryTransport } from '../src/main/api/in-memory-transport';
import { makeRepo } from './helpers/repo';
import { FakeClock } from './helpers/fake-clock';
import { removeTempDirs, tempDir } from './helpers/town';
import { NO_SESSIONS } from './helpers/engine-context';
import { RecordingEffects } from './helpers/rule-town';

afterEach(() => removeTempDirs());

async function setup(maxPolecats = 2) {
  const base = tempDir('rec');
  const repo = makeRepo(path.join(base, 'repo'));
  const clock = new FakeClock();
  const store = new Store(openDatabase(path.join(base, 'town.db')), clock);
  const effects = new RecordingEffects();
  const reconciler = new Reconciler({ store, clock, effects, worktreeRoot: path.join(base, 'worktrees') });
  const dispatcher = new ApiDispatcher(
    { store, townDir: base, reconcilerMetrics: () => reconciler.metrics, ...NO_SESSIONS },
    'token',
  );
  const town: TypedClient = typedClient(inMemoryTransport(dispatcher, { kind: 'overseer' }));
  await town.call('rig.add', { name: 'app', path: repo, prefix: 'ap', max_polecats: maxPolecats });
  const spawned = (e: Effect & { type: 'start_session' }, n: number) =>
    store.report({ type: 'session.spawned', agent: e.agent, bead: e.bead, payload: { session: `s${n}`, launch: e.launch, pid: 100000 + n, pgid: 100000 + n, command: 'x', cwd: '/tmp' } });
  const exited = (agent: string, bead: string, session: string, code: number) =>
    store.report({ type: 'session.exited', agent, bead, payload: { session, exit_code: code, signal: null, reason: 'exited' } });
  return { store, clock, effects, reconciler, town, spawned, exited };
}

describe('the reconciler', () => {
  it('dispatches nothing for a staged convoy, then ready beads in order within capacity once started', async () => {
    const t = await setup(2);
    const a = await t.town.call('bead.create', { rig: 'app', title: 'a', priority: 1 });
    const b = await t.town.call('bead.create', { rig: 'app', title: 'b', after: [a.id] });
    const c = await t.town.call('bead.create', { rig: 'app', title: 'c' });
    const d = await t.town.call('bead.create', { rig: 'app', title: 'd' });
    const convoy = await t.town.call('convoy.create', { title: 'x', beads: [a.id, b.id, c.id, d.id] });
    expect((await t.reconciler.tick())!.actions).toEqual([]);

    await t.town.call('convoy.start', { convoy: convoy.id });
    const r = (await t.reconciler.tick())!;
    const dispatched = r.actions.filter((x) => x.type === 'dispatch').map((x) => (x as { bead: string }).bead);
    expect(dispatched).toEqual([a.id, c.id]); // b waits for a; capacity 2 leaves d for later
    expect(t.effects.take('start_session')).toHaveLength(2);
    // Idempotent: a second pass over the same state does nothing.
    expect((await t.reconciler.tick())!.actions).toEqual([]);
  });

  it('counts attempts on the bead, backs off, and fails it at the cap with an escalation', async () => {
    const t = await setup(1);
    // Crash restarts on the same hook have their own test; here every crash ends the run.
    await t.town.call('town.config', { set: { 'health.crash_restarts': 0 } });
    const bead = await t.town.call('bead.create', { rig: 'app', title: 'crashy' });
    await t.town.call('sling', { bead: bead.id });
    const backoffs = [0, 120, 300, 600, 1800];
    for (let attempt = 1; attempt <= 5; attempt++) {
      await t.reconciler.tick();
      const [start] = t.effects.take('start_session') as (Effect & { type: 'start_session' })[];
      expect(start, `attempt ${attempt} dispatched`).toBeDefined();
      t.spawned(start, attempt);
      await t.reconciler.tick();
      t.exited(start.agent, bead.id, `s${attempt}`, 3);
      await t.reconciler.tick();
      const shown = await t.town.call('bead.show', { id: bead.id });
      expect(shown.dispatch_attempts).toBe(attempt);
      if (attempt < 5) {
        expect(shown.status).toBe('open');
        expect(shown.assignee).toBeNull();
        // Not yet: the backoff has not elapsed.
        t.clock.advance(backoffs[attempt] * 1000 - 1000);
        await t.reconciler.tick();
        expect(t.effects.take('start_session')).toHaveLength(0);
        t.clock.advance(1000);
      } else {
        expect(shown.status).toBe('failed');
      }
    }
    // One escalation per reason: the crashes of five runs are deduplicated while unacked.
    const inbox = await t.town.call('mail.inbox', {});
    const subjects = inbox.filter((m) => m.kind === 'escalation').map((m) => m.subject).sort();
    expect(subjects).toEqual([`${bead.id}: agent keeps crashing`, `${bead.id}: dispatch attempts exhausted`]);
    t.clock.advance(3600_000);
    await t.reconciler.tick();
    expect(t.effects.take('start_session')).toHaveLength(0);
  });

  it('ignores a late exit from a session the agent no longer runs, and a done for a bead it does not hold', async () => {
    const t = await setup(1);
    const one = await t.town.call('bead.create', { rig: 'app', title: 'one' });
    await t.town.call('sling', { bead: one.id });
    await t.reconciler.tick();
    const [start] = t.effects.take('start_session') as (Effect & { type: 'start_session' })[];
    t.spawned(start, 1);
    await t.reconciler.tick();
    t.exited(start.agent, one.id, 'some-old-session', 1);
    await t.reconciler.tick();
    expect((await t.town.call('bead.show', { id: one.id })).status).toBe('in_progress');
    expect(t.reconciler.metrics.violations).toEqual([]);
  });

  it('ignores a late spawn from an earlier launch when the agent was stopped and re-hooked to the same bead', async () => {
    const t = await setup(1);
    const bead = await t.town.call('bead.create', { rig: 'app', title: 'restarted before it started' });
    await t.town.call('sling', { bead: bead.id });
    await t.reconciler.tick();
    const [first] = t.effects.take('start_session') as (Effect & { type: 'start_session' })[];
    await t.town.call('agent.stop', { agent: first.agent, hold: false });
    await t.reconciler.tick();
    const [second] = t.effects.take('start_session') as (Effect & { type: 'start_session' })[];
    expect(second.agent).toBe(first.agent);
    expect(second.launch).not.toBe(first.launch);

    t.spawned(first, 1); // the first launch's process shows up late
    await t.reconciler.tick();
    expect(t.effects.take('stop_session')).toEqual([{ type: 'stop_session', agent: first.agent, session: 's1', reason: 'superseded' }]);
    const agent = (await t.town.call('agent.list', {})).find((a) => a.id === first.agent)!;
    expect(agent.status).toBe('starting');
    expect(agent.session).toBeNull();
    const ignored = await t.town.call('events.list', { limit: 1000 });
    expect(ignored.some((e) => e.type === 'event.ignored' && String(e.payload.why).includes(first.launch))).toBe(true);

    t.spawned(second, 2);
    await t.reconciler.tick();
    expect((await t.town.call('agent.list', {})).find((a) => a.id === first.agent)!.session).toBe('s2');
  });

  it('poisons an event that keeps failing without blocking the ones after it', async () => {
    const t = await setup(1);
    // Written past the store's checks, as a bug in an older release might have left it.
    t.store.run(`INSERT INTO events (type, agent_id, payload, created_at) VALUES ('session.spawned', 'app/polecats/ghost', '{"session":null}', 0)`);
    const bead = await t.town.call('bead.create', { rig: 'app', title: 'after the poison' });
    await t.town.call('sling', { bead: bead.id });
    for (let i = 0; i < 3; i++) await t.reconciler.tick();
    const poisoned = t.store.get<{ n: number }>('SELECT count(*) AS n FROM events WHERE poisoned_at IS NOT NULL')!.n;
    expect(poisoned).toBe(1);
    expect((await t.town.call('bead.show', { id: bead.id })).status).toBe('in_progress');
  });
});
