// Reusing a polecat's worktree reads HEAD from its file instead of asking git. In a reftable
// repository that file holds only the stub `refs/heads/.invalid`; the branch must then come
// from git, or this bead's own uncommitted work would be taken for another bead's and stashed.
// Needs git ≥ 2.45 (`git init --ref-format=reftable`); skipped, and only then, on an older git.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { preparePolecatWorktree } from '../src/main/git/worktrees';
import { gitIn } from './helpers/repo';
import { removeTempDirs, tempDir } from './helpers/town';

afterEach(() => removeTempDirs());

function gitHasReftable(): boolean {
  const [major, minor] = (/git version (\d+)\.(\d+)/.exec(execFileSync('git', ['--version'], { encoding: 'utf8' })) ?? []).slice(1).map(Number);
  return major > 2 || (major === 2 && minor >= 45);
}

describe('a reused worktree in a reftable repository', () => {
  it.skipIf(!gitHasReftable())('keeps its bead\'s uncommitted work in place (skipped when git lacks reftable, < 2.45)', async () => {
    const base = tempDir('reftable');
    const repo = path.join(base, 'repo');
    fs.mkdirSync(repo);
    gitIn(repo, 'init', '-q', '--ref-format=reftable', '-b', 'main');
    fs.writeFileSync(path.join(repo, 'README.md'), '# reftable\n');
    gitIn(repo, 'add', '.');
    gitIn(repo, 'commit', '-q', '-m', 'init');
    const w = { rigPath: repo, defaultBranch: 'main', worktree: path.join(base, 'wt', 'quartz'), branch: 'polecat/quartz-ap-1', setupCommand: null };

    expect((await preparePolecatWorktree(w)).created).toBe(true);
    // What the fallback is for: the worktree's HEAD file does not name the branch.
    const gitDir = path.resolve(w.worktree, /^gitdir:\s*(.+)$/m.exec(fs.readFileSync(path.join(w.worktree, '.git'), 'utf8'))![1].trim());
    expect(fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8')).not.toContain(w.branch);
    fs.writeFileSync(path.join(w.worktree, 'notes.md'), 'half done\n');

    const again = await preparePolecatWorktree(w);
    expect(again).toMatchObject({ created: false, stashed: false });
    expect(fs.readFileSync(path.join(w.worktree, 'notes.md'), 'utf8')).toBe('half done\n');
    expect(gitIn(w.worktree, 'symbolic-ref', '--short', 'HEAD')).toBe(w.branch);
  });
});
