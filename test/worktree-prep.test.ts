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
});
