// The circuit breaker through a real `town serve`: a rig whose runtime command does not
// exist fails every start at once; after a few failures dispatch pauses, `town status`
// says why, and the overseer hears of it once.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

describe('the dispatch circuit breaker in a served town', () => {
  it('pauses dispatch when the runtime command cannot be found, says why, and escalates once', async () => {
    const base = tempDir('breaker');
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    expect((await town(dir, ['init', dir])).code).toBe(0);
    await townJson(dir, 'rig', 'add', 'app', repo, '--runtime', 'shell', '--command', 'no-such-agent-cli --bead {bead}', '--max-polecats', '2', '--prefix', 'ap');
    for (const [k, v] of [['dispatch.breaker_failures', '3'], ['dispatch.backoff', '0'], ['health.crash_backoff', '0'], ['dispatch.max_attempts', '20']]) {
      expect((await town(dir, ['config', 'set', k, v])).code).toBe(0);
    }
    for (const title of ['one', 'two']) {
      const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', title);
      await townJson(dir, 'sling', b.id);
    }
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();

    const status = await waitFor('dispatch to pause', async () => {
      const st = await townJson(dir, 'status');
      return st.dispatch_paused ? st : null;
    }, 30_000, 100).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}`);
    });
    expect(status.dispatch_pause.by).toBe('breaker');
    expect(status.dispatch_pause.evidence.summary).toMatch(/^\d+ dispatch failures in 30 min, last: the runtime exited 127 \(.*no-such-agent-cli.*not found\)$/);
    const text = (await town(dir, ['status'])).stdout;
    expect(text).toContain('dispatch:   PAUSED');
    expect(text).toMatch(/dispatch failures in 30 min, last: the runtime exited 127/);

    // Paused means paused: no further start, and one escalation however long it stays so.
    const startsThen = (await townJson(dir, 'events', '--limit', '10000')).filter((e: any) => e.type === 'session.spawned').length;
    await new Promise((r) => setTimeout(r, 1500));
    const events = await townJson(dir, 'events', '--limit', '10000');
    expect(events.filter((e: any) => e.type === 'session.spawned').length).toBe(startsThen);
    const escalations = (await townJson(dir, 'mail', 'inbox')).filter((m: any) => m.kind === 'escalation' && /circuit breaker/.test(m.subject));
    expect(escalations).toHaveLength(1);
    expect(escalations[0].priority).toBe('high');
  });
});
