// A polecat's worktree never moves to another bead's branch carrying uncommitted work: what
// the last bead left is stashed (kept, findable), what this bead left stays in place.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { preparePolecatWorktree } from '../src/main/git/worktrees';
import { gitIn, makeRepo } from './helpers/repo';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-wtprep-'));
  dirs.push(dir);
  const rig = makeRepo(path.join(dir, 'rig'));
  const worktree = path.join(dir, 'wt', 'p1');
  const start = (bead: string) => preparePolecatWorktree({ rigPath: rig, defaultBranch: 'main', worktree, branch: `polecat/p1/${bead}`, setupCommand: null });
  return { rig, worktree, start };
}

describe('a reused polecat worktree', () => {
  it("stashes the last bead's uncommitted and untracked files before moving to the next bead", async () => {
    const { worktree, start } = setup();
    await start('b1');
    fs.appendFileSync(path.join(worktree, 'README.md'), 'half-done edit\n');
    fs.writeFileSync(path.join(worktree, 'notes.txt'), 'untracked notes\n');

    const next = await start('b2');

    expect(next.stashed).toBe(true);
    expect(gitIn(worktree, 'symbolic-ref', '--short', 'HEAD')).toBe('polecat/p1/b2');
    expect(gitIn(worktree, 'status', '--porcelain')).toBe('');
    expect(gitIn(worktree, 'stash', 'list')).toContain('before polecat/p1/b2');
    gitIn(worktree, 'stash', 'pop');
    expect(fs.readFileSync(path.join(worktree, 'README.md'), 'utf8')).toContain('half-done edit');
    expect(fs.readFileSync(path.join(worktree, 'notes.txt'), 'utf8')).toBe('untracked notes\n');
  });

  it("leaves this bead's own uncommitted work in place when it starts again", async () => {
    const { worktree, start } = setup();
    await start('b1');
    fs.writeFileSync(path.join(worktree, 'draft.md'), 'mine\n');

    const again = await start('b1');

    expect(again.stashed).toBe(false);
    expect(fs.readFileSync(path.join(worktree, 'draft.md'), 'utf8')).toBe('mine\n');
    expect(gitIn(worktree, 'stash', 'list')).toBe('');
  });

  it('runs the setup again when it never finished there (cut off, or failed), and not once it has', async () => {
    const { rig, worktree } = setup();
    const runs = path.join(path.dirname(rig), 'setup-runs');
    const ok = path.join(path.dirname(rig), 'setup-may-finish');
    // Each run is counted; it fails until `ok` exists (as an install cut off by a stop would).
    const setupCommand = `echo run >> '${runs}'; [ -e '${ok}' ]`;
    const start = (bead: string) => preparePolecatWorktree({ rigPath: rig, defaultBranch: 'main', worktree, branch: `polecat/p1/${bead}`, setupCommand });
    await expect(start('b1')).rejects.toThrow(/setup command failed/);
    fs.writeFileSync(ok, '');
    const again = await start('b1');
    expect(again.created).toBe(false);
    expect(fs.readFileSync(runs, 'utf8').trim().split('\n')).toHaveLength(2);
    await start('b2');
    expect(fs.readFileSync(runs, 'utf8').trim().split('\n')).toHaveLength(2);
    // Nothing of it in the tree itself.
    expect(gitIn(worktree, 'status', '--porcelain')).toBe('');
  });
});
