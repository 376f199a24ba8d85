// `town doctor` against a real `town serve`: the invariants' state, the last ticks'
// metrics and each agent's health with its evidence; a violation made by hand in the
// store shows there, is recorded once however many ticks see it, and clears.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../src/shared/doctor';
import { townPaths } from '../src/main/engine/town-dir';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

async function doctor(dir: string): Promise<{ code: number; report: DoctorReport }> {
  const r = await town(dir, ['doctor', '--json']);
  if (r.code > 1) throw new Error(`town doctor exited ${r.code}: ${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout) as DoctorReport };
}

describe('town doctor', () => {
  it('shows the invariants, the ticks and each agent’s health; a violation is recorded once and clears', async () => {
    const base = tempDir('doctor');
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    expect((await town(dir, ['init', dir])).code).toBe(0);
    await townJson(dir, 'rig', 'add', 'app', repo, '--prefix', 'ap');
    const ask = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Asks first', '--scenario', 'needs-input');
    const spare = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Not started');
    const convoy = await townJson(dir, 'convoy', 'create', '--title', 'Later', spare.id);
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();
    await townJson(dir, 'sling', ask.id);

    // Clean: violations [], the dispatch counted, the waiting agent with its evidence.
    const clean = await waitFor('the agent to show waiting in town doctor', async () => {
      const d = await doctor(dir);
      return d.report.agents.some((a) => a.status === 'waiting') ? d : null;
    });
    expect(clean.code).toBe(0);
    expect(clean.report.invariants.violations).toEqual([]);
    expect(clean.report.ticks.count).toBeGreaterThan(0);
    expect(clean.report.ticks.actions.dispatch).toBe(1);
    expect(clean.report.ticks.effects_ok).toBeGreaterThan(0);
    expect(clean.report.ticks.max_ms).toBeGreaterThanOrEqual(clean.report.ticks.p50_ms);
    const agent = clean.report.agents.find((a) => a.hook === ask.id)!;
    expect(agent.status).toBe('waiting');
    expect(agent.evidence?.summary).toContain('Proceed? [y/N]');
    expect(agent.since).not.toBeNull();
    const human = await town(dir, ['doctor']);
    expect(human.stdout).toContain('invariants: all hold');
    expect(human.stdout).toMatch(/reconciler: last \d+ ticks, p50 [\d.]+ ms, max [\d.]+ ms/);
    expect(human.stdout).toContain(agent.id);
    expect(human.stdout).toContain('Proceed? [y/N]');

    // Corrupt the store behind the engine's back: a landed convoy whose member is open.
    const db = new Database(townPaths(dir).db);
    db.prepare(`UPDATE convoys SET status = 'landed' WHERE id = ?`).run(convoy.id);
    const seen = await waitFor('town doctor to show the violation', async () => {
      const d = await doctor(dir);
      return d.report.invariants.violations.length ? d : null;
    });
    expect(seen.code).toBe(1);
    expect(seen.report.invariants.violations).toEqual([
      expect.objectContaining({ invariant: 6, message: `landed convoy ${convoy.id} has members not closed: ${spare.id} open` }),
    ]);
    const ticksThen = seen.report.ticks.count;
    // Several more ticks see it: still one event.
    await waitFor('three more ticks', async () => (await doctor(dir)).report.ticks.count >= Math.min(ticksThen + 3, 100));
    const events = async (type: string) => (await townJson<{ type: string }[]>(dir, 'events', '--limit', '10000')).filter((e) => e.type === type);
    expect(await events('invariant.violated')).toHaveLength(1);
    const humanBad = await town(dir, ['doctor']);
    expect(humanBad.code).toBe(1);
    expect(humanBad.stdout).toContain(`! [6] landed convoy ${convoy.id}`);

    db.prepare(`UPDATE convoys SET status = 'staged' WHERE id = ?`).run(convoy.id);
    db.close();
    await waitFor('the violation to clear', async () => (await doctor(dir)).report.invariants.violations.length === 0);
    expect(await events('invariant.cleared')).toHaveLength(1);
    expect((await town(dir, ['doctor'])).code).toBe(0);
  });
});
