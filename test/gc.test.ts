// Collection: idle polecats lose their worktree only when nothing in it would be lost, and
// old history is pruned in bounded batches. Real git repos, a fake clock.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectPolecat, deleteFiles } from '../src/main/engine/polecat-collector';
import { checkoutDetached, preparePolecatWorktree } from '../src/main/git/worktrees';
import { createAgent } from '../src/main/store/agents';
import { gitIn } from './helpers/repo';
import { ruleTown } from './helpers/rule-town';
import { removeTempDirs } from './helpers/town';

afterEach(() => removeTempDirs());

const H = 3600_000;
type T = Awaited<ReturnType<typeof ruleTown>>;

/** An idle polecat of rig `app` with its own worktree on a branch cut from main. */
async function idlePolecat(t: T, name: string) {
  const id = `app/polecats/${name}`;
  const worktree = path.join(t.worktreeRoot, 'app', name);
  const branch = `polecat/${name}/ap-x`;
  t.store.transaction(() => createAgent(t.store, { id, role: 'polecat', rig: 'app', name, runtime: null, worktree }));
  t.store.run('UPDATE agents SET branch = ? WHERE id = ?', branch, id);
  await preparePolecatWorktree({ rigPath: t.repo, defaultBranch: 'main', worktree, branch, setupCommand: null });
  return { id, worktree, branch };
}

/** One GC round as the engine runs it: tick, run the collection effects for real, apply their reports. */
async function gcRound(t: T) {
  await t.reconciler.tick();
  const asked = t.effects.take('collect_polecat');
  for (const e of asked) await collectPolecat(t.store, e.agent);
  await t.reconciler.tick();
  return asked.map((e) => e.agent);
}

const agentRow = (t: T, id: string) => t.store.get<{ gc_state: string | null }>('SELECT * FROM agents WHERE id = ?', id);
const escalations = (t: T) => t.store.all<{ severity: string; agent_id: string; body: string }>('SELECT * FROM escalations');

describe('collecting idle polecats', () => {
  it('keeps an idle polecat that a bead waits for by name, so that bead is not stranded', async () => {
    const t = await ruleTown();
    const p = await idlePolecat(t, 'jade');
    // Slung to jade by name, but blocked, so it stays open while jade idles past the GC age.
    const blocker = await t.town.call('bead.create', { rig: 'app', title: 'blocker' });
    const waiting = await t.town.call('bead.create', { rig: 'app', title: 'waits for jade', after: [blocker.id] });
    await t.town.call('sling', { bead: waiting.id, target: p.id });
    t.clock.advance(25 * H);
    expect(await gcRound(t)).toEqual([]);
    expect(fs.existsSync(p.worktree)).toBe(true);
    expect(agentRow(t, p.id)).toMatchObject({ gc_state: null });
  });

  it('removes a clean, merged worktree and then the polecat, only after gc.idle_polecat_after', async () => {
    const t = await ruleTown();
    const p = await idlePolecat(t, 'quartz');
    t.clock.advance(23 * H);
    expect(await gcRound(t)).toEqual([]);
    expect(fs.existsSync(p.worktree)).toBe(true);

    t.clock.advance(2 * H);
    expect(await gcRound(t)).toEqual([p.id]);
    expect(fs.existsSync(p.worktree)).toBe(false);
    expect(agentRow(t, p.id)).toBeUndefined();
    const removed = t.store.get<{ payload: string }>(`SELECT payload FROM events WHERE type = 'agent.removed' AND agent_id = ?`, p.id)!;
    expect(JSON.parse(removed.payload).cause).toBe(`idle for 25 h; worktree ${p.worktree} was clean and merged, removed`);
    expect(gitIn(t.repo, 'branch', '--list', p.branch)).toBe('');
    expect(gitIn(t.repo, 'worktree', 'list')).not.toContain(p.worktree);
    expect(escalations(t)).toEqual([]);
    expect(await gcRound(t)).toEqual([]); // nothing left to do: a second pass does nothing
  });

  it('keeps a dirty worktree, reports it once with its files, and never deletes it', async () => {
    const t = await ruleTown();
    const p = await idlePolecat(t, 'jasper');
    fs.writeFileSync(path.join(p.worktree, 'notes.md'), 'half done\n');
    fs.appendFileSync(path.join(p.worktree, 'README.md'), 'edited\n');
    t.clock.advance(25 * H);
    expect(await gcRound(t)).toEqual([p.id]);
    expect(fs.readFileSync(path.join(p.worktree, 'notes.md'), 'utf8')).toBe('half done\n');
    expect(agentRow(t, p.id)?.gc_state).toBe('kept');
    const [raised, ...more] = escalations(t);
    expect(more).toEqual([]);
    expect(raised.severity).toBe('low');
    expect(raised.agent_id).toBe(p.id);
    expect(raised.body).toContain('notes.md');
    expect(raised.body).toContain('README.md');

    for (let i = 0; i < 3; i++) {
      t.clock.advance(25 * H);
      expect(await gcRound(t)).toEqual([]);
    }
    expect(fs.existsSync(path.join(p.worktree, 'notes.md'))).toBe(true);
    expect(escalations(t)).toHaveLength(1);
  });

  it('keeps a clean worktree whose branch has a commit the target lacks', async () => {
    const t = await ruleTown();
    const p = await idlePolecat(t, 'onyx');
    fs.writeFileSync(path.join(p.worktree, 'feature.md'), '# feature\n');
    gitIn(p.worktree, 'add', '.');
    gitIn(p.worktree, 'commit', '-q', '-m', 'ap-x: unmerged feature');
    t.clock.advance(25 * H);
    expect(await gcRound(t)).toEqual([p.id]);
    expect(fs.existsSync(path.join(p.worktree, 'feature.md'))).toBe(true);
    expect(gitIn(t.repo, 'branch', '--list', p.branch)).toContain(p.branch);
    expect(agentRow(t, p.id)?.gc_state).toBe('kept');
    expect(escalations(t)[0].body).toContain('ap-x: unmerged feature');
  });

  it('gives no work to a polecat while its worktree is being inspected', async () => {
    const t = await ruleTown(1);
    const p = await idlePolecat(t, 'garnet');
    t.clock.advance(25 * H);
    await t.reconciler.tick();
    expect(t.effects.take('collect_polecat').map((e) => e.agent)).toEqual([p.id]);
    const b = await t.town.call('bead.create', { rig: 'app', title: 'new work' });
    await t.town.call('sling', { bead: b.id });
    await t.reconciler.tick();
    const starts = t.effects.take('start_session');
    expect(starts.map((s) => s.agent)).not.toContain(p.id);
  });
});

describe('pruning history', () => {
  it('prunes processed events beyond gc.keep_events in bounded batches per tick', async () => {
    const t = await ruleTown();
    await t.town.call('town.config', { set: { 'gc.keep_events': '1000' } });
    t.store.transaction(() => {
      for (let i = 0; i < 5000; i++) t.store.event({ type: 'config.set', payload: { key: 'x', value: i } });
    });
    const count = () => t.store.get<{ n: number }>('SELECT count(*) AS n FROM events')!.n;
    const before = count();
    await t.reconciler.tick();
    const afterOne = count();
    expect(before - afterOne).toBeGreaterThan(0);
    expect(before - afterOne).toBeLessThanOrEqual(2000); // one bounded batch (plus its own record)
    for (let i = 0; i < 5; i++) await t.reconciler.tick();
    expect(count()).toBeLessThanOrEqual(1000 + 5);
    expect(count()).toBeGreaterThanOrEqual(1000);
    // The newest events are the ones kept.
    const newest = t.store.get<{ payload: string }>(`SELECT payload FROM events WHERE type = 'config.set' ORDER BY seq DESC LIMIT 1`)!;
    expect(JSON.parse(newest.payload).value).toBe(4999);
  });

  it('deletes session logs older than gc.keep_logs and keeps newer ones', async () => {
    const t = await ruleTown();
    const p = await idlePolecat(t, 'topaz');
    const logOld = path.join(t.base, 'old.log');
    const logNew = path.join(t.base, 'new.log');
    fs.writeFileSync(logOld, 'old\n');
    fs.writeFileSync(logNew, 'new\n');
    const session = (id: string, log: string, endedAt: number) =>
      t.store.run(
        `INSERT INTO sessions (id, agent_id, command, cwd, started_at, ended_at, log_path) VALUES (?, ?, 'x', '/tmp', ?, ?, ?)`,
        id, p.id, endedAt - 1000, endedAt, log,
      );
    session('s-old', logOld, t.clock.now() - 8 * 24 * H);
    session('s-new', logNew, t.clock.now() - 1 * H);
    await t.reconciler.tick();
    for (const e of t.effects.take('delete_files')) await deleteFiles(e.paths, () => {});
    expect(fs.existsSync(logOld)).toBe(false);
    expect(fs.existsSync(logNew)).toBe(true);
    expect(t.store.get<{ log_path: string | null }>('SELECT log_path FROM sessions WHERE id = ?', 's-old')!.log_path).toBeNull();
    await t.reconciler.tick();
    expect(t.effects.take('delete_files')).toEqual([]);
  });

  it("keeps a removed polecat's session logs until gc.keep_logs, then deletes them", async () => {
    const t = await ruleTown();
    const p = await idlePolecat(t, 'opal');
    const logs = ['opal-1.log', 'opal-2.log'].map((f) => path.join(t.base, f));
    for (const [i, log] of logs.entries()) {
      fs.writeFileSync(log, 'work\n');
      t.store.run(
        `INSERT INTO sessions (id, agent_id, command, cwd, started_at, ended_at, log_path) VALUES (?, ?, 'x', '/tmp', ?, ?, ?)`,
        `s-opal-${i}`, p.id, t.clock.now() - 2000, t.clock.now() - 1000, log,
      );
    }
    const deleteAsked = async () => {
      for (const e of t.effects.take('delete_files')) await deleteFiles(e.paths, () => {});
    };
    t.clock.advance(25 * H);
    expect(await gcRound(t)).toEqual([p.id]);
    expect(agentRow(t, p.id)).toBeUndefined();
    await deleteAsked();
    expect(logs.filter((l) => fs.existsSync(l))).toEqual(logs); // a day old: within gc.keep_logs (7 days)

    t.clock.advance(7 * 24 * H);
    await t.reconciler.tick();
    await deleteAsked();
    expect(logs.filter((l) => fs.existsSync(l))).toEqual([]);
    await t.reconciler.tick();
    expect(t.effects.take('delete_files')).toEqual([]); // nothing left to prune
  });
});

describe("the refinery's worktree", () => {
  it('clears a stale index.lock a killed merge left in its git dir, so the next merge can check out', async () => {
    const t = await ruleTown();
    const dir = path.join(t.base, 'refinery', 'app');
    const head = gitIn(t.repo, 'rev-parse', 'HEAD');
    await checkoutDetached(t.repo, dir, head);
    // Where git keeps a linked worktree's index: <repo>/.git/worktrees/<name>/.
    const lock = path.join(t.repo, '.git', 'worktrees', path.basename(dir), 'index.lock');
    fs.writeFileSync(lock, '');
    await checkoutDetached(t.repo, dir, head);
    expect(fs.existsSync(lock)).toBe(false);
  });
});
