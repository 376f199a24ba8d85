// Failed merges come back, end to end: a real `town serve`, scripted agents in PTYs, the
// demo rig's gate in a real repository. A conflict is resolved by its polecat through a
// resolution bead, a failing test is fixed on `needs-fix`, a flaky gate passes on its rerun;
// every convoy lands and main never held a commit its gate rejects.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSampleRepo } from '../src/main/demo/demo-town';
import { gitIn } from './helpers/repo';
import { removeTempDirs, ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

async function newTown() {
  const base = tempDir('rework');
  const dir = path.join(base, 'town');
  const repo = await createSampleRepo(path.join(base, 'repo'));
  expect((await town(dir, ['init', dir])).code).toBe(0);
  await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'sh test.sh', '--max-polecats', '2', '--prefix', 'ap');
  return { base, dir, repo };
}

async function landConvoy(dir: string, beads: string[]) {
  const convoy = await townJson(dir, 'convoy', 'create', '--title', 'Rework', ...beads);
  const s = new ServedTown(dir);
  served.push(s);
  await s.start();
  await townJson(dir, 'convoy', 'start', convoy.id);
  return waitFor('the convoy to land', async () => {
    const c = await townJson(dir, 'convoy', 'show', convoy.id);
    return c.status === 'landed' ? c : null;
  }, 150_000, 300).catch(async (err) => {
    throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${s.log.slice(-3000)}`);
  });
}

/** Every commit main ever pointed at through the refinery (its first parents), checked out and gated. */
function gateOnEveryFirstParent(base: string, repo: string): { sha: string; ok: boolean; out: string }[] {
  return gitIn(repo, 'rev-list', '--first-parent', 'main').split('\n').filter(Boolean).map((sha, i) => {
    const wt = path.join(base, `gate-${i}`);
    gitIn(repo, 'worktree', 'add', '-q', '--detach', wt, sha);
    const run = spawnSync('sh', ['test.sh'], { cwd: wt, encoding: 'utf8' });
    gitIn(repo, 'worktree', 'remove', '--force', wt);
    return { sha, ok: run.status === 0, out: run.stdout + run.stderr };
  });
}

// A bead's MRs, oldest first (the list itself is in queue order).
const byAge = (a: { created_at: string }, b: { created_at: string }) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0);
const mrsOf = async (dir: string, bead: string) => (await townJson<any[]>(dir, 'mr', 'list')).filter((m) => m.bead === bead).sort(byAge);

describe('failed merges are routed by type and come back merged', () => {
  it('two conflicting beads: the second MR blocks on a resolution bead, its polecat resolves it, both land', async () => {
    const { base, dir, repo } = await newTown();
    const a = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Changelog for 1.1', '--scenario', 'conflict');
    const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Changelog for the API', '--scenario', 'conflict');
    const landed = await landConvoy(dir, [a.id, b.id]);
    expect(landed.closed).toBe(2);

    // Both polecats branched off the same tip, so the second to merge conflicted on shared.md.
    const beads = await townJson<any[]>(dir, 'bead', 'list');
    const resolution = beads.find((x) => x.title.startsWith('Resolve merge conflict: '));
    expect(resolution).toBeTruthy();
    expect(resolution.status).toBe('closed');
    expect(resolution.labels).toContain('needs-rebase');
    expect(resolution.resolves.files).toEqual(['shared.md']);
    expect(resolution.body).toContain('shared.md');
    const second = await townJson(dir, 'bead', 'show', resolution.resolves.bead);
    expect(resolution.title).toBe(`Resolve merge conflict: ${second.title}`);
    // Back to the polecat that did the work.
    expect(resolution.assignee).toBe(second.assignee);

    // One MR per bead: the blocked one took the resolved commit and merged.
    for (const x of [a, b]) expect((await mrsOf(dir, x.id)).map((m) => m.state)).toEqual(['merged']);
    const events = await townJson<any[]>(dir, 'events', '--limit', '10000');
    const secondMr = (await mrsOf(dir, second.id))[0];
    expect(events.filter((e) => e.type === 'mr.blocked' && e.payload.mr === secondMr.id)).toHaveLength(1);
    expect(events.some((e) => e.type === 'mr.queued' && e.payload.mr === secondMr.id && e.payload.from === 'blocked')).toBe(true);

    // Both lines kept, sorted; and main never held a commit its gate rejects.
    expect(gitIn(repo, 'show', 'main:shared.md').trim().split('\n')).toEqual([a.id, b.id].sort());
    const gated = gateOnEveryFirstParent(base, repo);
    expect(gated.length).toBeGreaterThanOrEqual(3);
    expect(gated.filter((g) => !g.ok)).toEqual([]);
  }, 200_000);

  it('fail-tests goes back as needs-fix and merges once fixed; flaky merges after one rerun, marked flaky', async () => {
    const { base, dir, repo } = await newTown();
    const broken = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Speed up the login query', '--scenario', 'fail-tests');
    const flaky = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Cache the session lookups', '--scenario', 'flaky');
    await landConvoy(dir, [broken.id, flaky.id]);

    const brokenMrs = await mrsOf(dir, broken.id);
    expect(brokenMrs.map((m) => m.state)).toEqual(['failed', 'merged']);
    expect(brokenMrs[0].failure.type).toBe('gate:test');
    expect(brokenMrs[0].failure.tail).toContain(`work/${broken.id}.fail`);
    const fixed = await townJson(dir, 'bead', 'show', broken.id);
    expect(fixed.status).toBe('closed');
    expect(fixed.labels).not.toContain('needs-fix'); // it was there while in rework, gone once submitted again
    const events = await townJson<any[]>(dir, 'events', '--limit', '10000');
    const rework = events.filter((e) => e.type === 'bead.rework' && e.bead === broken.id);
    expect(rework.map((e) => e.payload.label)).toEqual(['needs-fix']);
    expect(rework[0].payload.to).toBe(fixed.assignee); // the same polecat fixed it
    expect(events.some((e) => e.type === 'mail.sent' && e.payload.kind === 'rework' && e.payload.to === fixed.assignee)).toBe(true);

    const flakyMrs = await mrsOf(dir, flaky.id);
    expect(flakyMrs.map((m) => [m.state, m.flaky])).toEqual([['merged', true]]);
    expect(events.filter((e) => e.type === 'refinery.flaky' && e.payload.mr === flakyMrs[0].id)).toHaveLength(1);
    expect(brokenMrs.every((m) => m.flaky === false)).toBe(true);

    // main: no .fail file ever landed.
    expect(gitIn(repo, 'ls-tree', '-r', '--name-only', 'main', 'work/')).not.toContain('.fail');
    expect(gateOnEveryFirstParent(base, repo).filter((g) => !g.ok)).toEqual([]);
    expect(execFileSync('git', ['log', '--format=%s', 'main'], { cwd: repo, encoding: 'utf8' })).toContain(`${broken.id}: fix the failing test`);
  }, 200_000);

  it('the demo town\'s second convoy shows every path and lands', async () => {
    const base = tempDir('rework-demo');
    const dir = path.join(base, 'town');
    expect((await town(dir, ['demo', dir])).code).toBe(0);
    const convoy = (await townJson<any[]>(dir, 'convoy', 'list')).find((c) => c.title.startsWith('Second release'));
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();
    await townJson(dir, 'convoy', 'start', convoy.id);
    await waitFor('the second convoy to land', async () => ((await townJson(dir, 'convoy', 'show', convoy.id)).status === 'landed' ? true : null), 150_000, 300)
      .catch(async (err) => {
        throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${s.log.slice(-3000)}`);
      });
    const mrs = await townJson<any[]>(dir, 'mr', 'list');
    const beads = await townJson<any[]>(dir, 'bead', 'list');
    const byScenario = (sc: string) => beads.filter((b) => b.scenario === sc && !b.resolves);
    expect(beads.filter((b) => b.resolves).map((b) => b.status)).toEqual(['closed']);
    expect(mrs.filter((m) => m.bead === byScenario('fail-tests')[0].id).sort(byAge).map((m) => m.state)).toEqual(['failed', 'merged']);
    expect(mrs.find((m) => m.bead === byScenario('flaky')[0].id).flaky).toBe(true);
    const repo = path.join(dir, 'repos', 'sample-app');
    expect(gateOnEveryFirstParent(base, repo).filter((g) => !g.ok)).toEqual([]);
  }, 200_000);
});
