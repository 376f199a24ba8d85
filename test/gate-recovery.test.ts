// A gate is recorded like an agent session: when the engine is killed while a gate runs,
// the restart finds the leftover gate process by pid + start time, kills it, and the
// merge request is tried again.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitIn, makeRepo } from './helpers/repo';
import { FAST_AGENTS, removeTempDirs, ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

/** Live processes whose environment names this merge request's gate. */
function gateProcesses(mr: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (env.includes(`TOWN_MR=${mr}`) && state !== 'Z') found.push(Number(entry));
    } catch {
      // gone or not ours
    }
  }
  return found;
}

describe('a gate running when the engine is killed', () => {
  it('is found and killed on restart, and its merge request is retried and lands', async () => {
    const base = tempDir('gate-crash');
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    const mark = path.join(base, 'gate-ran-once');
    // The first run hangs (ignoring the hangup a dying terminal sends); a retry passes.
    const gate = `if [ -e '${mark}' ]; then sh check.sh; else touch '${mark}'; trap '' HUP; sleep 600; fi`;
    await town(dir, ['init', dir]);
    await townJson(dir, 'rig', 'add', 'app', repo, '--prefix', 'ap', '--test', gate);
    const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Gated work');

    const first = new ServedTown(dir, FAST_AGENTS);
    served.push(first);
    await first.start();
    await townJson(dir, 'sling', b.id);
    const mr = await waitFor('the gate to run', async () => {
      const m = (await townJson(dir, 'mr', 'list')).find((x: any) => x.bead === b.id);
      return m?.state === 'testing' && gateProcesses(m.id).length > 0 ? m : null;
    }, 60_000, 100).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}`);
    });
    const db = new Database(path.join(dir, 'town.db'), { readonly: true });
    const recorded = db.prepare(`SELECT * FROM sessions WHERE kind = 'gate' AND bead_id = ? AND ended_at IS NULL`).all(mr.id) as { pid: number; process_start: string | null }[];
    db.close();
    expect(recorded).toHaveLength(1);
    expect(recorded[0].process_start).not.toBeNull();
    expect(gateProcesses(mr.id)).toContain(recorded[0].pid);

    await first.kill();
    // The gate outlived the engine: it ignores the hangup.
    expect(gateProcesses(mr.id).length).toBeGreaterThan(0);

    const second = new ServedTown(dir, FAST_AGENTS);
    served.push(second);
    await second.start();
    await waitFor('the leftover gate to be gone', () => gateProcesses(mr.id).length === 0, 10_000, 50);
    expect(second.log).toMatch(/killed survivor \d+ of gate session/);
    await waitFor('the bead to land', async () => (await townJson(dir, 'bead', 'show', b.id)).status === 'closed', 60_000, 200).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${second.log.slice(-2000)}`);
    });
    const landed = (await townJson(dir, 'mr', 'list')).find((x: any) => x.id === mr.id);
    expect(landed.state).toBe('merged');
    expect(landed.attempts).toBe(2);
    // The first claim's holder was verified gone (its engine no longer runs): its lease expired on restart.
    const history = (await townJson(dir, 'mq', 'show', mr.id)).events as { type: string; text: string }[];
    expect(history.find((e) => e.type === 'mr.lease_expired')?.text).toMatch(/an engine that is no longer running/);
    expect(gitIn(repo, 'log', '--format=%s', 'main')).toContain(`Merge ${b.id}`);
  });

  it('does not hold up a clean stop: the gate is stopped, the MR is not failed, and it lands after the restart', async () => {
    const base = tempDir('gate-stop');
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    const hold = path.join(base, 'hold');
    fs.writeFileSync(hold, '');
    // A long gate: it waits while `hold` exists.
    await town(dir, ['init', dir]);
    await townJson(dir, 'rig', 'add', 'app', repo, '--prefix', 'ap', '--test', `while [ -e '${hold}' ]; do sleep 0.05; done; sh check.sh`);
    const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Gated work');
    const first = new ServedTown(dir, FAST_AGENTS);
    served.push(first);
    await first.start();
    await townJson(dir, 'sling', b.id);
    const mr = await waitFor('the gate to run', async () => {
      const m = (await townJson(dir, 'mr', 'list')).find((x: any) => x.bead === b.id);
      return m?.state === 'testing' && gateProcesses(m.id).length > 0 ? m : null;
    }, 60_000, 100);

    // Ctrl-C: the engine stops now, not when the gate would have finished.
    expect(await first.stop()).toBe(0);
    expect(gateProcesses(mr.id)).toEqual([]);
    const stopped = (await townJson(dir, 'mr', 'list')).find((x: any) => x.id === mr.id);
    expect(stopped.state).not.toBe('failed');
    expect((await townJson(dir, 'bead', 'show', b.id)).status).toBe('in_review');

    fs.rmSync(hold);
    const second = new ServedTown(dir, FAST_AGENTS);
    served.push(second);
    await second.start();
    await waitFor('the bead to land', async () => (await townJson(dir, 'bead', 'show', b.id)).status === 'closed', 60_000, 200).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${second.log.slice(-2000)}`);
    });
    expect((await townJson(dir, 'mr', 'list')).find((x: any) => x.id === mr.id).state).toBe('merged');
  }, 120_000);
});
