// A town for rule tests: a real store and repo, a fake clock, and a session host that only
// records the effects it is asked for (the test reports their outcomes as events).
import fs from 'node:fs';
import path from 'node:path';
import { typedClient, type TypedClient } from '../../src/shared/api';
import { ApiDispatcher } from '../../src/main/api/dispatcher';
import { inMemoryTransport } from '../../src/main/api/in-memory-transport';
import type { Effect, EffectRunner } from '../../src/main/reconciler/effects';
import { Reconciler } from '../../src/main/reconciler/reconciler';
import { openDatabase } from '../../src/main/store/database';
import { Store } from '../../src/main/store/store';
import { FakeClock } from './fake-clock';
import { gitIn, makeRepo } from './repo';
import { queueMergeRequest } from '../../src/main/store/merge-requests';
import { tempDir } from './town';
import { NO_SESSIONS } from './engine-context';

export class RecordingEffects implements EffectRunner {
  effects: Effect[] = [];
  async run(e: Effect) {
    this.effects.push(e);
  }
  take<T extends Effect['type']>(type: T): (Effect & { type: T })[] {
    const out = this.effects.filter((e) => e.type === type);
    this.effects = this.effects.filter((e) => e.type !== type);
    return out as (Effect & { type: T })[];
  }
}

export type StartSession = Effect & { type: 'start_session' };

export async function ruleTown(maxPolecats = 2) {
  const base = tempDir('rules');
  const repo = makeRepo(path.join(base, 'repo'));
  const clock = new FakeClock();
  const store = new Store(openDatabase(path.join(base, 'town.db')), clock);
  const effects = new RecordingEffects();
  const worktreeRoot = path.join(base, 'worktrees');
  const reconciler = new Reconciler({ store, clock, effects, worktreeRoot });
  const dispatcher = new ApiDispatcher(
    { store, townDir: base, reconcilerMetrics: () => reconciler.metrics, ...NO_SESSIONS },
    'token',
  );
  const town: TypedClient = typedClient(inMemoryTransport(dispatcher, { kind: 'overseer' }));
  await town.call('rig.add', { name: 'app', path: repo, prefix: 'ap', max_polecats: maxPolecats });
  let n = 0;
  const spawned = (e: StartSession) => {
    const session = `s${++n}`;
    store.report({ type: 'session.spawned', agent: e.agent, bead: e.bead, payload: { session, launch: e.launch, pid: 100000 + n, pgid: 100000 + n, command: 'x', cwd: '/tmp' } });
    return session;
  };
  const spawnFailed = (e: StartSession, error: string) =>
    store.report({ type: 'session.spawn_failed', agent: e.agent, bead: e.bead, payload: { error, launch: e.launch } });
  return { base, repo, store, clock, effects, reconciler, dispatcher, town, worktreeRoot, spawned, spawnFailed };
}

/**
 * A merge request of one commit (`work.md` on polecat/jade/work) queued in a rule town,
 * with `main`'s tip before it.
 */
export async function queueOneCommitMergeRequest(t: RuleTown) {
  const bead = await t.town.call('bead.create', { rig: 'app', title: 'work to merge' });
  const branch = 'polecat/jade/work';
  gitIn(t.repo, 'checkout', '-q', '-b', branch);
  fs.writeFileSync(path.join(t.repo, 'work.md'), '# work\n');
  gitIn(t.repo, 'add', '.');
  gitIn(t.repo, 'commit', '-q', '-m', `${bead.id}: work`);
  gitIn(t.repo, 'checkout', '-q', 'main');
  const mainBefore = gitIn(t.repo, 'rev-parse', 'main');
  const mr = t.store.transaction(() =>
    queueMergeRequest(t.store, { sourceBead: bead.id, rig: 'app', branch, target: 'main', headSha: null, agent: 'app/polecats/jade', title: 'work', priority: 2 }),
  );
  return { bead, branch, mainBefore, mr };
}

export type RuleTown = Awaited<ReturnType<typeof ruleTown>>;
