// Stop means stop: `town stop AGENT` stops the agent and holds its bead out of dispatch
// until the overseer releases it; `--no-hold` lets it be dispatched again. Real engine,
// real PTYs, the real CLI.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeTempDirs, ROOT, ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';
import { makeRepo } from './helpers/repo';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

async function servedTown() {
  const base = tempDir('hold');
  const dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  expect((await town(dir, ['init', dir])).code).toBe(0);
  await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'sh check.sh', '--max-polecats', '2', '--prefix', 'ap');
  const s = new ServedTown(dir);
  served.push(s);
  await s.start();
  return dir;
}

/** The agent working on `bead`, once its session runs. */
async function workingAgentOn(dir: string, bead: string) {
  return waitFor(`an agent working on ${bead}`, async () => {
    const agents: any[] = await townJson(dir, 'agents');
    return agents.find((a) => a.hook === bead && a.status === 'working' && a.session);
  });
}

/** Lets the reconciler run `n` more full passes (its tick count, not a sleep). */
async function afterTicks(dir: string, n: number) {
  const start = (await townJson(dir, 'status')).reconciler.ticks;
  await waitFor(`${n} reconciler ticks`, async () => (await townJson(dir, 'status')).reconciler.ticks >= start + n, 30_000, 100);
}

const spawnsOf = async (dir: string, bead: string) =>
  ((await townJson(dir, 'events', '--limit', '10000')) as any[]).filter((e) => e.type === 'session.spawned' && e.bead === bead).length;

describe('stop and hold', () => {
  it('keeps a stopped agent\'s bead open and out of dispatch until it is released, then it lands', async () => {
    const dir = await servedTown();
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Silent work', '--scenario', 'stall');
    await townJson(dir, 'sling', bead.id);
    const agent = await workingAgentOn(dir, bead.id);

    const stop = await town(dir, ['stop', agent.id], { npm_package_name: '' });
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain(`${bead.id} is held`);
    // The command as this shell can run it: not on PATH and not run by npm, the CLI's full path.
    expect(stop.stdout).toContain(`${path.join(ROOT, 'bin', 'town.cjs')} release ${bead.id}`);

    await afterTicks(dir, 5);
    const held = await townJson(dir, 'bead', 'show', bead.id);
    expect(held.status).toBe('open');
    expect(held.held_at).not.toBeNull();
    expect(held.held_reason).toMatch(/stopped by overseer/);
    expect(await spawnsOf(dir, bead.id)).toBe(1);
    const agents: any[] = await townJson(dir, 'agents');
    expect(agents.filter((a) => a.hook === bead.id)).toEqual([]);
    // Slinging a held bead is refused with the way out named.
    const sling = await town(dir, ['sling', bead.id]);
    expect(sling.code).not.toBe(0);
    expect(sling.stderr).toContain(`town release ${bead.id}`);

    await townJson(dir, 'bead', 'update', bead.id, '--scenario', 'ok');
    const released = await town(dir, ['release', bead.id]);
    expect(released.code).toBe(0);
    await waitFor('the released bead to land', async () => (await townJson(dir, 'bead', 'show', bead.id)).status === 'closed', 60_000, 200).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}`);
    });
    expect(await spawnsOf(dir, bead.id)).toBe(2);
    const events: any[] = await townJson(dir, 'events', '--limit', '10000');
    expect(events.filter((e) => e.bead === bead.id).map((e) => e.type)).toEqual(expect.arrayContaining(['bead.held', 'bead.released']));
  }, 120_000);

  it('with --no-hold, the stopped agent\'s bead is dispatched again', async () => {
    const dir = await servedTown();
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Silent work', '--scenario', 'stall');
    await townJson(dir, 'sling', bead.id);
    const agent = await workingAgentOn(dir, bead.id);
    const stop = await town(dir, ['stop', agent.id, '--no-hold']);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain('dispatched');
    await waitFor('a second run of the bead', async () => (await spawnsOf(dir, bead.id)) === 2);
    expect((await townJson(dir, 'bead', 'show', bead.id)).held_at).toBeNull();
  }, 120_000);

  it('holds an open bead of a convoy without an agent, and refuses to hold one an agent is working on', async () => {
    const dir = await servedTown();
    const first = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'First');
    const later = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Not yet');
    const convoy = await townJson(dir, 'convoy', 'create', '--title', 'Both', first.id, later.id);
    const hold = await town(dir, ['hold', later.id, '--reason', 'waiting for the design']);
    expect(hold.code).toBe(0);
    await townJson(dir, 'convoy', 'start', convoy.id);
    await waitFor('the first bead to land', async () => (await townJson(dir, 'bead', 'show', first.id)).status === 'closed', 60_000, 200);
    await afterTicks(dir, 3);
    const shown = await townJson(dir, 'bead', 'show', later.id);
    expect(shown.status).toBe('open');
    expect(shown.held_reason).toBe('waiting for the design');
    expect(await spawnsOf(dir, later.id)).toBe(0);

    const busy = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Busy', '--scenario', 'stall');
    await townJson(dir, 'sling', busy.id);
    const agent = await workingAgentOn(dir, busy.id);
    const refused = await town(dir, ['hold', busy.id]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`town stop ${agent.id}`);

    await townJson(dir, 'release', later.id);
    await waitFor('the convoy to land', async () => (await townJson(dir, 'convoy', 'show', convoy.id)).status === 'landed', 60_000, 200);
  }, 120_000);
});
