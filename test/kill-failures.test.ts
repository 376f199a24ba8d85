// A process group that cannot be verified gone is never swallowed: stop() rejects (the caller
// learns), and the town records it as an event and a high escalation. The OS refusing a kill
// is the one thing faked here (a process that survives SIGKILL cannot be made on demand);
// the session is a real process in a real PTY.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TownEffects } from '../src/main/engine/effect-runner';
import { townPaths } from '../src/main/engine/town-dir';
import { Reconciler } from '../src/main/reconciler/reconciler';
import { groupAlive, ProcessSurvivedError } from '../src/main/sessions/process-tree';
import { SessionHost, type KillFailure } from '../src/main/sessions/session-host';
import { openDatabase } from '../src/main/store/database';
import { runMergeRequest } from '../src/main/refinery/refinery';
import { createBead } from '../src/main/store/beads';
import { queueMergeRequest } from '../src/main/store/merge-requests';
import { addRig } from '../src/main/store/rigs';
import { Store } from '../src/main/store/store';
import { FakeClock } from './helpers/fake-clock';
import { gitIn, makeRepo } from './helpers/repo';
import { removeTempDirs, tempDir, waitFor } from './helpers/town';

const groups: number[] = [];
afterEach(async () => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  removeTempDirs();
});

/** A host whose kills the OS refuses: the group stays, and the kill says so. */
function refusingHost() {
  return new SessionHost({
    stopGraceMs: 100,
    killGroup: async (pgid) => {
      throw new ProcessSurvivedError(pgid);
    },
  });
}

function sleeper(h: SessionHost, id: string) {
  const info = h.spawn({ sessionId: id, agentId: 'app/polecats/quartz', file: '/bin/sh', args: ['-c', 'sleep 60'], cwd: tempDir('kill'), env: { ...(process.env as Record<string, string>) } });
  groups.push(info.pgid);
  return info;
}

describe('a kill that fails', () => {
  it('rejects the stop, and tells the listeners which group survived', async () => {
    const h = refusingHost();
    const failures: KillFailure[] = [];
    h.onKillFailed((f) => failures.push(f));
    const info = sleeper(h, 's1');
    await expect(h.stop('s1', 'test')).rejects.toThrow(`process group ${info.pgid} survived SIGKILL`);
    expect(failures).toEqual([{ sessionId: 's1', agentId: 'app/polecats/quartz', pgid: info.pgid, error: `process group ${info.pgid} survived SIGKILL`, during: 'stop' }]);
    expect(groupAlive(info.pgid)).toBe(true);
    expect(h.has('s1')).toBe(true); // not reported as ended while its processes run

    // When the leader does exit, a failed clean-up of its group is reported too.
    process.kill(-info.pgid, 'SIGKILL');
    await waitFor('the exit clean-up to be reported', () => failures.some((f) => f.during === 'exit'), 10_000, 20);
  });

  it('is recorded by the town as an event and raised to the overseer', async () => {
    const dir = tempDir('kill-town');
    const clock = new FakeClock();
    const store = new Store(openDatabase(path.join(dir, 'town.db')), clock);
    const h = refusingHost();
    const effects = new TownEffects(store, h, townPaths(dir));
    const reconciler = new Reconciler({ store, clock, effects, worktreeRoot: path.join(dir, 'worktrees') });
    const info = sleeper(h, 's2');
    await expect(effects.run({ type: 'stop_session', agent: 'app/polecats/quartz', session: 's2', reason: 'test' })).rejects.toThrow(/survived SIGKILL/);
    await reconciler.tick();
    const event = store.get<{ payload: string; processed_at: number | null }>(`SELECT * FROM events WHERE type = 'session.kill_failed'`)!;
    expect(JSON.parse(event.payload)).toMatchObject({ session: 's2', pgid: info.pgid, during: 'stop', kind: 'agent' });
    expect(event.processed_at).not.toBeNull();
    const raised = store.all<{ severity: string; agent_id: string; evidence: string }>('SELECT * FROM escalations');
    expect(raised).toHaveLength(1);
    expect(raised[0].severity).toBe('high');
    expect(raised[0].agent_id).toBe('app/polecats/quartz');
    expect(JSON.parse(raised[0].evidence).summary).toContain(`process group ${info.pgid} of agent session s2 survived a kill (stop)`);

    process.kill(-info.pgid, 'SIGKILL');
    await waitFor('the session to end', () => !h.has('s2'), 10_000, 20);
  });
});

describe('a gate that survives its timeout kill', () => {
  it('does not crash the engine: the merge fails as timed out once the gate is gone, main untouched', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const base = tempDir('gate-kill');
      const repo = makeRepo(path.join(base, 'repo'));
      gitIn(repo, 'checkout', '-q', '-b', 'polecat/x');
      gitIn(repo, 'commit', '-q', '--allow-empty', '-m', 'work');
      gitIn(repo, 'checkout', '-q', 'main');
      const mainBefore = gitIn(repo, 'rev-parse', 'main');
      const store = new Store(openDatabase(path.join(base, 'town.db')), new FakeClock());
      const mr = store.transaction(() => {
        addRig(store, { name: 'app', path: repo, branch: 'main', prefix: 'ap', gates: [{ name: 'test', command: 'sleep 60', timeout_s: 1 }], setup: null, maxPolecats: 1, runtime: 'shell', command: null, autoDispatch: false });
        const source = createBead(store, { rig: 'app', type: 'task', title: 'gated', body: '', priority: 2, labels: [], metadata: {}, origin: { kind: 'user', id: 'overseer' } });
        return queueMergeRequest(store, { sourceBead: source.id, rig: 'app', branch: 'polecat/x', target: 'main', headSha: null, agent: 'app/polecats/x', title: 'gated', priority: 2 });
      });
      const h = refusingHost();
      const failures: KillFailure[] = [];
      h.onKillFailed((f) => failures.push(f));
      const gateSessions = new Map<string, string>();
      const merging = runMergeRequest({ store, host: h, refineryRoot: path.join(base, 'refinery'), logs: base, gateSessions }, mr.id);

      // The timeout's kill is refused: the gate lives on, and the engine with it.
      await waitFor('the timeout kill to fail', () => failures.some((f) => f.during === 'stop'), 20_000, 20);
      const gate = store.get<{ pgid: number }>(`SELECT pgid FROM sessions WHERE kind = 'gate'`)!;
      groups.push(gate.pgid);
      expect(groupAlive(gate.pgid)).toBe(true);
      await new Promise((r) => setTimeout(r, 50)); // an unhandled rejection is emitted on a later turn
      expect(unhandled).toEqual([]);

      // Once the gate does go, the merge ends as a timed-out gate.
      process.kill(-gate.pgid, 'SIGKILL');
      await merging;
      const failed = store.get<{ payload: string }>(`SELECT payload FROM events WHERE type = 'refinery.failed'`)!;
      expect(JSON.parse(failed.payload)).toMatchObject({ mr: mr.id, failure_type: 'gate:test' });
      expect(JSON.parse(failed.payload).tail).toContain('test timed out after 1s');
      expect(gitIn(repo, 'rev-parse', 'main')).toBe(mainBefore);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
