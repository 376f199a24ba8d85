// A town on a real store with one agent at work, driven by the reconciler with a fake
// clock and recorded side effects (no processes): for tests that then change it by hand.
import path from 'node:path';
import { typedClient, type TypedClient } from '../../src/shared/api';
import { ApiDispatcher } from '../../src/main/api/dispatcher';
import { inMemoryTransport } from '../../src/main/api/in-memory-transport';
import type { Effect, EffectRunner } from '../../src/main/reconciler/effects';
import { Reconciler } from '../../src/main/reconciler/reconciler';
import { openDatabase } from '../../src/main/store/database';
import { Store } from '../../src/main/store/store';
import { FakeClock } from './fake-clock';
import { makeRepo } from './repo';
import { tempDir } from './town';
import { NO_SESSIONS } from './engine-context';

export class RecordingEffects implements EffectRunner {
  effects: Effect[] = [];
  async run(e: Effect) {
    this.effects.push(e);
  }
}

/** A town with one agent working on bead `work` (live session s1) and an open bead `spare`. */
export async function healthyTown(context: Partial<typeof NO_SESSIONS> = {}) {
  const base = tempDir('inv');
  const repo = makeRepo(path.join(base, 'repo'));
  const clock = new FakeClock();
  const store = new Store(openDatabase(path.join(base, 'town.db')), clock);
  const effects = new RecordingEffects();
  const logged: string[] = [];
  const reconciler = new Reconciler({ store, clock, effects, worktreeRoot: path.join(base, 'worktrees'), log: (l) => logged.push(l) });
  const dispatcher = new ApiDispatcher(
    { store, townDir: base, reconcilerMetrics: () => reconciler.metrics, ...NO_SESSIONS, ...context },
    'token',
  );
  const town: TypedClient = typedClient(inMemoryTransport(dispatcher, { kind: 'overseer' }));
  await town.call('rig.add', { name: 'app', path: repo, prefix: 'ap', max_polecats: 2 });
  const work = (await town.call('bead.create', { rig: 'app', title: 'work' })).id;
  const spare = (await town.call('bead.create', { rig: 'app', title: 'spare' })).id;
  await town.call('sling', { bead: work });
  await reconciler.tick();
  const start = effects.effects.find((e) => e.type === 'start_session') as Effect & { type: 'start_session' };
  store.report({ type: 'session.spawned', agent: start.agent, bead: work, payload: { session: 's1', launch: start.launch, pid: 999001, pgid: 999001, command: 'x', cwd: '/tmp' } });
  await reconciler.tick();
  const agent = start.agent;
  const rig = store.get<{ id: string }>('SELECT id FROM rigs')!.id;
  const sql = (text: string, ...params: unknown[]) => store.db.prepare(text).run(...params);
  /** A second polecat, inserted raw. */
  const addAgent = (id: string, status: string, hook: string | null, session: string | null) =>
    sql(
      `INSERT INTO agents (id, role, rig_id, name, status, hook_bead_id, session_id, created_at, updated_at) VALUES (?, 'polecat', ?, ?, ?, ?, ?, ?, ?)`,
      id, rig, id, status, hook, session, clock.now(), clock.now(),
    );
  const addSession = (id: string, agentId: string, bead: string | null) =>
    sql(`INSERT INTO sessions (id, agent_id, bead_id, command, cwd, started_at) VALUES (?, ?, ?, 'x', '/tmp', ?)`, id, agentId, bead, clock.now());
  const addMr = (id: string, source: string, state: string) => {
    sql(`INSERT INTO beads (id, rig_id, type, title, origin_kind, origin_id, created_at, updated_at) VALUES (?, ?, 'merge_request', 'mr', 'system', 'test', ?, ?)`, id, rig, clock.now(), clock.now());
    sql(`INSERT INTO merge_requests (id, source_bead_id, rig_id, branch, target, state, created_at, updated_at) VALUES (?, ?, ?, 'b', 'main', ?, ?, ?)`, id, source, rig, state, clock.now(), clock.now());
  };
  return { base, repo, store, clock, reconciler, effects, dispatcher, town, work, spare, agent, rig, sql, addAgent, addSession, addMr, logged };
}
export type WorkingTown = Awaited<ReturnType<typeof healthyTown>>;
