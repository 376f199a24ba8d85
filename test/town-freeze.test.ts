// A frozen town judges nobody: the GUPP rule and restarts wait, and the thaw starts the
// agents' progress clocks again so a long freeze does not make every agent "stalled".
// Real store and session host, fake clock, recorded effects.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { typedClient } from '../src/shared/api';
import { ApiDispatcher } from '../src/main/api/dispatcher';
import { inMemoryTransport } from '../src/main/api/in-memory-transport';
import { freezeTown, thawTown } from '../src/main/engine/town-freeze';
import type { Effect } from '../src/main/reconciler/effects';
import { Reconciler } from '../src/main/reconciler/reconciler';
import { SessionHost } from '../src/main/sessions/session-host';
import { openDatabase } from '../src/main/store/database';
import { Store } from '../src/main/store/store';
import { FakeClock } from './helpers/fake-clock';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, tempDir } from './helpers/town';
import { NO_SESSIONS } from './helpers/engine-context';
import { RecordingEffects } from './helpers/rule-town';

const hosts: SessionHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.dispose();
  removeTempDirs();
});

const MIN = 60_000;

async function workingAgent() {
  const base = tempDir('freeze');
  const repo = makeRepo(path.join(base, 'repo'));
  const clock = new FakeClock();
  const store = new Store(openDatabase(path.join(base, 'town.db')), clock);
  const effects = new RecordingEffects();
  const reconciler = new Reconciler({ store, clock, effects, worktreeRoot: path.join(base, 'worktrees') });
  const host = new SessionHost();
  hosts.push(host);
  const dispatcher = new ApiDispatcher(
    {
      store, townDir: base, reconcilerMetrics: () => reconciler.metrics, ...NO_SESSIONS,
      freezeTown: (reason) => freezeTown(store, host, reason), thawTown: () => thawTown(store, host),
    },
    'token',
  );
  const town = typedClient(inMemoryTransport(dispatcher, { kind: 'overseer' }));
  await town.call('rig.add', { name: 'app', path: repo, prefix: 'ap' });
  const bead = await town.call('bead.create', { rig: 'app', title: 'long work' });
  await town.call('sling', { bead: bead.id });
  await reconciler.tick();
  const [start] = effects.take('start_session') as (Effect & { type: 'start_session' })[];
  store.report({ type: 'session.spawned', agent: start.agent, bead: bead.id, payload: { session: 's1', launch: start.launch, pid: 999_999, pgid: 999_999, command: 'x', cwd: '/tmp' } });
  await reconciler.tick();
  const agent = () => store.get<{ status: string; last_progress_at: number | null; nudged_at: number | null }>('SELECT * FROM agents WHERE id = ?', start.agent)!;
  expect(agent().status).toBe('working');
  return { town, clock, effects, reconciler, agent };
}

describe('a frozen town', () => {
  it('does not nudge, escalate or stop a silent agent while frozen, and restarts its progress clock on thaw', async () => {
    const t = await workingAgent();
    const frozen = await t.town.call('town.estop', { reason: 'lunch' });
    expect(frozen).toMatchObject({ frozen: { reason: 'lunch' }, sessions: 0, failed: [] });

    t.clock.advance(3 * 60 * MIN); // past nudge, escalate and stop thresholds
    await t.reconciler.tick();
    expect(t.effects.take('nudge_session')).toEqual([]);
    expect(t.effects.effects).toEqual([]);
    expect(t.agent().status).toBe('working');

    await t.town.call('town.thaw', {});
    expect(t.agent().last_progress_at).toBe(t.clock.now());
    await t.reconciler.tick();
    expect(t.effects.effects).toEqual([]);

    // The clock runs again from the thaw: silence past nudge_after is judged as usual.
    t.clock.advance(16 * MIN);
    await t.reconciler.tick();
    expect(t.effects.take('nudge_session')).toHaveLength(1);
    expect(t.agent().status).toBe('stalled');
  });
});
