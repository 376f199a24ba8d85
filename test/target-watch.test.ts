// Invariant 7: a target branch moves only by the refinery's compare-and-swap. The refinery's
// own merges (also one finished by recovery after a kill) are never reported; a user's commit
// on main is reported once as information; a reset that drops a merge is reported high, with
// the dropped commits as evidence, in `town doctor` and as an escalation to ack.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readBranchTip } from '../src/main/git/ref-files';
import { gitIn, makeRepo } from './helpers/repo';
import { FAST_AGENTS, removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

async function newTown() {
  const base = tempDir('target');
  const dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  await town(dir, ['init', dir]);
  await townJson(dir, 'rig', 'add', 'app', repo, '--prefix', 'ap', '--test', 'sh check.sh');
  return { dir, repo };
}

async function serve(dir: string, env: Record<string, string> = {}) {
  const s = new ServedTown(dir, { ...FAST_AGENTS, ...env });
  served.push(s);
  await s.start();
  return s;
}

const outsideMoves = async (dir: string) =>
  (await townJson(dir, 'events', '--limit', '10000')).filter((e: any) => e.type === 'rig.target_moved_outside');

async function mergeOne(dir: string, title: string) {
  const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', title);
  await townJson(dir, 'sling', b.id);
  await waitFor(`${b.id} to land`, async () => (await townJson(dir, 'bead', 'show', b.id)).status === 'closed', 60_000, 200);
  return b;
}

describe('a target branch moved outside the refinery', () => {
  it('is not the refinery\'s merge; a user commit is reported once (low), a reset dropping a merge high, both in doctor', async () => {
    const { dir, repo } = await newTown();
    await serve(dir);
    const b = await mergeOne(dir, 'Merged by the refinery');
    const merged = gitIn(repo, 'rev-parse', 'main');
    expect(gitIn(repo, 'log', '-1', '--format=%s', 'main')).toContain(`Merge ${b.id}`);

    // The user commits on main in their own checkout: a fast-forward of the merge.
    gitIn(repo, 'commit', '-q', '--allow-empty', '-m', 'user work on main');
    const userTip = gitIn(repo, 'rev-parse', 'main');
    const [ff] = await waitFor('the outside commit to be reported', async () => {
      const m = await outsideMoves(dir);
      return m.length > 0 ? m : null;
    }, 30_000, 200);
    // Only this move: the refinery's own merge before it was never reported.
    expect(ff.payload).toMatchObject({ rig: 'app', target: 'main', from: merged, to: userTip, kind: 'fast-forward', added: 1, dropped_count: 0 });
    const low = await waitFor('its escalation', async () => (await townJson(dir, 'escalations')).find((e: any) => e.reason.includes('app/main moved outside')));
    expect(low.severity).toBe('low');

    // Someone resets main to before the merge: the merge is dropped.
    gitIn(repo, 'reset', '-q', '--hard', `${merged}^1`);
    const rewrite = await waitFor('the rewrite to be reported', async () => (await outsideMoves(dir)).find((e: any) => e.payload.kind === 'rewrite'), 30_000, 200);
    expect(rewrite.payload.from).toBe(userTip);
    expect(rewrite.payload.to).toBe(gitIn(repo, 'rev-parse', `${merged}^1`));
    expect(rewrite.payload.dropped.map((d: any) => d.subject)).toEqual(expect.arrayContaining(['user work on main', expect.stringContaining(`Merge ${b.id}`)]));
    expect(rewrite.payload.dropped.find((d: any) => d.sha === merged).refinery).toBe(true);
    const high = await waitFor('its escalation', async () => (await townJson(dir, 'escalations')).find((e: any) => e.reason.includes('rewritten outside')));
    expect(high.severity).toBe('high');
    expect(high.evidence.last_lines.join('\n')).toContain('(merged by the refinery)');

    const doctor = await townJson(dir, 'doctor');
    expect(doctor.invariants.target_moves.map((m: any) => m.escalation)).toEqual([low.id, high.id]);
    const text = (await town(dir, ['doctor'])).stdout;
    expect(text).toContain('moved outside the refinery (invariant 7): 2');
    expect(text).toContain(`town ack ${high.id}`);
    // Reported once per move: the tip is adopted as known.
    expect(await outsideMoves(dir)).toHaveLength(2);

    await townJson(dir, 'ack', high.id);
    expect((await townJson(dir, 'doctor')).invariants.target_moves.map((m: any) => m.escalation)).toEqual([low.id]);
  });

  it('is not a merge the engine was killed in after moving main, finished by recovery on restart', async () => {
    const { dir, repo } = await newTown();
    const crashing = await serve(dir, { TOWN_FAULTS: 'refinery.after-ref-move' });
    const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Merged as the engine dies');
    await townJson(dir, 'sling', b.id);
    await crashing.exited();
    const merged = gitIn(repo, 'rev-parse', 'main');
    expect(gitIn(repo, 'log', '-1', '--format=%s', 'main')).toContain(`Merge ${b.id}`);

    await serve(dir);
    await waitFor(`${b.id} to land`, async () => (await townJson(dir, 'bead', 'show', b.id)).status === 'closed', 60_000, 200);
    // A later outside commit is reported from the recovered merge: nothing before it was.
    gitIn(repo, 'commit', '-q', '--allow-empty', '-m', 'user work after the restart');
    const moves = await waitFor('the outside commit to be reported', async () => {
      const m = await outsideMoves(dir);
      return m.length > 0 ? m : null;
    }, 30_000, 200);
    expect(moves).toHaveLength(1);
    expect(moves[0].payload).toMatchObject({ from: merged, to: gitIn(repo, 'rev-parse', 'main'), kind: 'fast-forward' });
  });
});

describe('reading a branch tip without git', () => {
  it('reads loose refs, packed refs, and from a linked worktree; a missing branch is null', async () => {
    const repo = makeRepo(path.join(tempDir('tip'), 'repo'));
    const tip = gitIn(repo, 'rev-parse', 'main');
    expect(await readBranchTip(repo, 'main')).toBe(tip);
    gitIn(repo, 'pack-refs', '--all');
    expect(await readBranchTip(repo, 'main')).toBe(tip);
    gitIn(repo, 'commit', '-q', '--allow-empty', '-m', 'after packing');
    const linked = path.join(path.dirname(repo), 'linked');
    gitIn(repo, 'worktree', 'add', '-q', '--detach', linked);
    expect(await readBranchTip(linked, 'main')).toBe(gitIn(repo, 'rev-parse', 'main'));
    expect(await readBranchTip(repo, 'no-such-branch')).toBeNull();
  });
});
