// Progress from git state: an agent whose worktree gains a commit or an edited file is
// making progress (its GUPP clock restarts, a stall ends, the evidence says git), even
// with a still screen; a worktree that did not change is not progress.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GIT_SAMPLE_MS, GitProgressWatch } from '../src/main/engine/git-progress';
import { gitIn } from './helpers/repo';
import { removeTempDirs } from './helpers/town';
import { healthyTown, type WorkingTown } from './helpers/working-town';

afterEach(() => removeTempDirs());

/** The working agent of a healthy town, on a real git worktree of the rig's repo. */
async function agentOnWorktree() {
  const t = await healthyTown();
  const worktree = t.store.get<{ worktree: string }>('SELECT worktree FROM agents WHERE id = ?', t.agent)!.worktree;
  fs.mkdirSync(path.dirname(worktree), { recursive: true });
  gitIn(t.repo, 'worktree', 'add', '-q', '-b', `polecat/x/${t.work}`, worktree, 'main');
  const logged: string[] = [];
  const watch = new GitProgressWatch(t.store, t.clock, (l) => logged.push(l));
  return { ...t, worktree, watch, logged };
}

const progressEvents = (t: WorkingTown) =>
  t.store.all<{ payload: string; created_at: number }>(`SELECT payload, created_at FROM events WHERE type = 'session.progress' AND agent_id = ?`, t.agent);
const lastProgressAt = (t: WorkingTown) => t.store.get<{ at: number }>('SELECT last_progress_at AS at FROM agents WHERE id = ?', t.agent)!.at;

describe('progress from git state', () => {
  it('counts a commit as progress, and an unchanged worktree not', async () => {
    const t = await agentOnWorktree();
    await t.watch.sampleDue(); // the baseline
    const before = lastProgressAt(t);

    // Unchanged: nothing recorded, the clock of the last progress stays.
    t.clock.advance(GIT_SAMPLE_MS + 1000);
    await t.watch.sampleDue();
    await t.reconciler.tick();
    expect(progressEvents(t)).toEqual([]);
    expect(lastProgressAt(t)).toBe(before);

    // The agent stalled (no screen change), then commits: git says it works again.
    t.sql(`UPDATE agents SET status = 'stalled' WHERE id = ?`, t.agent);
    fs.writeFileSync(path.join(t.worktree, 'notes.md'), '# notes\n');
    gitIn(t.worktree, 'add', 'notes.md');
    gitIn(t.worktree, 'commit', '-q', '-m', 'notes');
    t.clock.advance(GIT_SAMPLE_MS + 1000);
    const committedAt = t.clock.now();
    await t.watch.sampleDue();
    await t.reconciler.tick();
    const [event] = progressEvents(t);
    expect(JSON.parse(event.payload)).toMatchObject({ session: 's1', source: 'git', summary: expect.stringMatching(/^git: HEAD moved \w{8} → \w{8}$/) });
    expect(lastProgressAt(t)).toBe(committedAt);
    expect(t.store.get<{ status: string }>('SELECT status FROM agents WHERE id = ?', t.agent)!.status).toBe('working');

    const doctor = await t.town.call('town.doctor', {});
    const health = doctor.agents.find((a) => a.id === t.agent)!;
    expect(health.last_progress).toMatchObject({ source: 'git', summary: expect.stringContaining('HEAD moved') });
    expect(health.last_progress_at).toBe(new Date(committedAt).toISOString());
    expect(t.logged).toEqual([]);
  });

  it('counts an edited file as progress, sampling each worktree at most every 30 s', async () => {
    const t = await agentOnWorktree();
    await t.watch.sampleDue();
    fs.writeFileSync(path.join(t.worktree, 'README.md'), '# edited\n');
    t.clock.advance(GIT_SAMPLE_MS / 2);
    await t.watch.sampleDue();
    expect(progressEvents(t)).toEqual([]); // not due yet
    t.clock.advance(GIT_SAMPLE_MS / 2);
    await t.watch.sampleDue();
    expect(progressEvents(t).map((e) => JSON.parse(e.payload).summary)).toEqual(['git: working tree changed (1 path differs from HEAD)']);
  });
});
