// The hourly ref sweep (issue 10's GC): merged polecat branches, landed convoys' branches and
// merge backup refs go once done with for longer than mq.keep_refs_for (7d), never a branch
// with a commit the target lacks, never one a worktree holds. Real git repos, a fake clock.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sweepRefs } from '../src/main/engine/ref-collector';
import { queueMergeRequest } from '../src/main/store/merge-requests';
import { describeEvent } from '../src/shared/event-text';
import { gitIn } from './helpers/repo';
import { ruleTown } from './helpers/rule-town';
import { removeTempDirs } from './helpers/town';

afterEach(() => removeTempDirs());

const H = 3600_000;
const D = 24 * H;
type T = Awaited<ReturnType<typeof ruleTown>>;

/** One sweep as the engine runs it: tick, run the sweep effects for real, tick again. */
async function sweepRound(t: T): Promise<number> {
  await t.reconciler.tick();
  const asked = t.effects.take('sweep_refs');
  for (const e of asked) await sweepRefs(t.store, e.rig, e.before);
  await t.reconciler.tick();
  return asked.length;
}

/** A commit on `branch` (made from `parent`) without touching any checkout. */
function commitOn(repo: string, branch: string, parent: string, message: string): string {
  const sha = gitIn(repo, 'commit-tree', `${parent}^{tree}`, '-p', parent, '-m', message);
  gitIn(repo, 'update-ref', `refs/heads/${branch}`, sha);
  return sha;
}

/** A closed bead whose polecat branch merged into main now, with its merged MR (and its backup ref). */
async function mergedPolecatBranch(t: T, name: string) {
  const bead = await t.town.call('bead.create', { rig: 'app', title: `work of ${name}` });
  const branch = `polecat/${name}/${bead.id}`;
  const base = gitIn(t.repo, 'rev-parse', 'main');
  commitOn(t.repo, branch, base, `work of ${name}`);
  gitIn(t.repo, 'merge', '-q', '--ff-only', branch);
  const mr = t.store.transaction(() =>
    queueMergeRequest(t.store, { sourceBead: bead.id, rig: 'app', branch, target: 'main', headSha: null, agent: 'app/refinery', title: bead.title, priority: 2 }),
  ).id;
  const backup = `refs/overseer/backup/main/${mr}`;
  gitIn(t.repo, 'update-ref', backup, base);
  const now = t.clock.now();
  t.store.run(`UPDATE beads SET status = 'closed', updated_at = ?, closed_at = ? WHERE id IN (?, ?)`, now, now, bead.id, mr);
  t.store.run(`UPDATE merge_requests SET state = 'merged', backup_ref = ?, updated_at = ? WHERE id = ?`, backup, now, mr);
  return { bead: bead.id, branch, mr, backup };
}

const branchList = (t: T) => gitIn(t.repo, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/').split('\n').filter(Boolean);
const backupList = (t: T) => gitIn(t.repo, 'for-each-ref', '--format=%(refname)', 'refs/overseer/backup/').split('\n').filter(Boolean);
const pruned = (t: T) => t.store.all<{ payload: string }>(`SELECT payload FROM events WHERE type = 'refs.pruned' ORDER BY seq`).map((e) => JSON.parse(e.payload) as { rig: string; refs: string[] });

describe('the ref sweep', () => {
  it('deletes a merged polecat branch and its backup ref once merged longer than mq.keep_refs_for, keeping younger ones', async () => {
    const t = await ruleTown();
    const old = await mergedPolecatBranch(t, 'quartz');
    t.clock.advance(3 * D);
    const young = await mergedPolecatBranch(t, 'jasper');
    expect(await sweepRound(t)).toBe(0); // nothing has ended 7d ago yet: no sweep at all
    expect(branchList(t)).toContain(old.branch);

    t.clock.advance(4 * D + H); // old: merged 7d 1h ago; young: 4d 1h ago
    expect(await sweepRound(t)).toBe(1);
    expect(branchList(t)).not.toContain(old.branch);
    expect(branchList(t)).toContain(young.branch);
    expect(backupList(t)).toEqual([young.backup]);
    expect(pruned(t)).toEqual([{ rig: 'app', refs: [`refs/heads/${old.branch}`, old.backup] }]);
    const e = t.store.get<{ type: string; payload: string }>(`SELECT type, payload FROM events WHERE type = 'refs.pruned'`)!;
    expect(describeEvent(e.type, JSON.parse(e.payload))).toBe(`pruned 2 merged branch(es) and old backup ref(s) of app: ${old.branch}, ${old.backup}`);

    // Within the hour nothing is swept again; after it, a sweep that deletes nothing records nothing.
    expect(await sweepRound(t)).toBe(0);
    t.clock.advance(H);
    expect(await sweepRound(t)).toBe(1);
    expect(pruned(t)).toHaveLength(1);
  });

  it('never deletes a branch holding a commit main lacks, however long ago its MR merged', async () => {
    const t = await ruleTown();
    const p = await mergedPolecatBranch(t, 'onyx');
    commitOn(t.repo, p.branch, p.branch, 'added after the merge');
    t.clock.advance(60 * D);
    await sweepRound(t);
    expect(branchList(t)).toContain(p.branch);
    // Its backup ref holds no work of its own: it goes by age.
    expect(backupList(t)).toEqual([]);
  });

  it('keeps a merged branch that a worktree has checked out', async () => {
    const t = await ruleTown();
    const p = await mergedPolecatBranch(t, 'garnet');
    gitIn(t.repo, 'worktree', 'add', '-q', path.join(t.base, 'wt-garnet'), p.branch);
    t.clock.advance(8 * D);
    await sweepRound(t);
    expect(branchList(t)).toContain(p.branch);
    gitIn(t.repo, 'worktree', 'remove', path.join(t.base, 'wt-garnet'));
    t.clock.advance(H);
    await sweepRound(t);
    expect(branchList(t)).not.toContain(p.branch);
  });

  it('keeps a merged branch whose bead is live again (reopened for more work)', async () => {
    const t = await ruleTown();
    const p = await mergedPolecatBranch(t, 'topaz');
    t.store.run(`UPDATE beads SET status = 'open' WHERE id = ?`, p.bead);
    t.clock.advance(8 * D);
    await sweepRound(t);
    expect(branchList(t)).toContain(p.branch);
  });

  it('keeps every backup ref younger than the window, however many (no newest-10 cut)', async () => {
    const t = await ruleTown();
    const made = [];
    for (let i = 0; i < 12; i++) {
      made.push(await mergedPolecatBranch(t, `opal-${i}`));
      t.clock.advance(H);
    }
    t.clock.advance(6 * D);
    await sweepRound(t);
    expect(backupList(t).sort()).toEqual(made.map((m) => m.backup).sort());
    t.clock.advance(D);
    await sweepRound(t);
    expect(backupList(t)).toEqual([]);
  });

  it("deletes a landed convoy's branch once landed longer than the window, when main holds all of it", async () => {
    const t = await ruleTown();
    const a = await t.town.call('bead.create', { rig: 'app', title: 'member a' });
    const b = await t.town.call('bead.create', { rig: 'app', title: 'member b' });
    const landed = await t.town.call('convoy.create', { title: 'landed', beads: [a.id], mode: 'integration' });
    const diverged = await t.town.call('convoy.create', { title: 'landed, but main lacks a commit', beads: [b.id], mode: 'integration' });
    const main = gitIn(t.repo, 'rev-parse', 'main');
    commitOn(t.repo, `convoy/${landed.id}`, main, 'member a');
    gitIn(t.repo, 'merge', '-q', '--ff-only', `convoy/${landed.id}`);
    commitOn(t.repo, `convoy/${diverged.id}`, main, 'member b, never landed on main');
    t.store.run(`UPDATE convoys SET status = 'landed', landed_at = ? WHERE id IN (?, ?)`, t.clock.now(), landed.id, diverged.id);

    t.clock.advance(6 * D);
    await sweepRound(t);
    expect(branchList(t)).toEqual(expect.arrayContaining([`convoy/${landed.id}`, `convoy/${diverged.id}`]));
    t.clock.advance(2 * D);
    await sweepRound(t);
    expect(branchList(t)).not.toContain(`convoy/${landed.id}`);
    expect(branchList(t)).toContain(`convoy/${diverged.id}`);
  });
});
