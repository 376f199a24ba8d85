// A polecat's branch starts where its files start. The refinery moves the target while
// agents are being started (effects run side by side), and `git checkout -b B main` reads
// main twice: once for the files it checks out, once for where it creates B. A merge landing
// in between left B on the merge over the files from before it, and the agent's next commit
// deleted the merged work (crash-chaos seed 751139338 lost a bead's file that way).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildMergeCandidate } from '../src/main/git/merge';
import { preparePolecatWorktree } from '../src/main/git/worktrees';
import { gitIn, makeRepo } from './helpers/repo';
import { removeTempDirs, tempDir } from './helpers/town';

afterEach(() => removeTempDirs());

/** A commit adding `file` on top of main, not yet on main: what the refinery is about to land. */
function pendingMerge(repo: string, file: string): string {
  gitIn(repo, 'checkout', '-q', '-b', 'landing');
  fs.mkdirSync(path.join(repo, 'work'), { recursive: true });
  fs.writeFileSync(path.join(repo, file), '# Merged meanwhile\n');
  gitIn(repo, 'add', file);
  gitIn(repo, 'commit', '-q', '-m', 'merged meanwhile');
  const sha = gitIn(repo, 'rev-parse', 'HEAD');
  gitIn(repo, 'checkout', '-q', 'main');
  gitIn(repo, 'branch', '-q', '-D', 'landing');
  return sha;
}

/**
 * Moves main to `to` the moment a checkout in a worktree has written its files and index
 * (git's post-index-change hook, called with 1 when the files were updated): the refinery's
 * compare-and-swap landing inside the polecat's checkout, every time.
 */
function landDuringNextCheckout(repo: string, to: string): string {
  const armed = path.join(repo, '..', 'land-armed');
  fs.writeFileSync(armed, '');
  const hook = path.join(repo, '.git', 'hooks', 'post-index-change');
  fs.writeFileSync(
    hook,
    `#!/bin/sh\nif [ "$1" = 1 ] && [ -f "${armed}" ]; then rm "${armed}"; git --git-dir="${repo}/.git" update-ref refs/heads/main ${to}; fi\n`,
  );
  fs.chmodSync(hook, 0o755);
  return armed;
}

describe("a polecat's worktree on a fresh branch", () => {
  it('starts the branch at the commit whose files it checked out, so a merge landing meanwhile is never undone', async () => {
    const base = tempDir('wt-start');
    const repo = makeRepo(path.join(base, 'repo'));
    const worktree = path.join(base, 'worktrees', 'onyx');
    const w = { rigPath: repo, defaultBranch: 'main', worktree, setupCommand: null };
    // The polecat's worktree exists from its previous bead.
    await preparePolecatWorktree({ ...w, branch: 'polecat/onyx/ap-old' });

    const merged = pendingMerge(repo, 'work/ap-faam.md');
    const armed = landDuringNextCheckout(repo, merged);
    await preparePolecatWorktree({ ...w, branch: 'polecat/onyx/ap-next' });
    // The merge did land during the checkout, or this tested nothing.
    expect(fs.existsSync(armed)).toBe(false);
    expect(gitIn(repo, 'rev-parse', 'main')).toBe(merged);

    // Nothing in the fresh worktree looks changed: the agent's commit carries only its own work.
    expect(gitIn(worktree, 'status', '--porcelain')).toBe('');

    // The agent commits its note, as the scripted agent does, and the refinery merges it.
    fs.mkdirSync(path.join(worktree, 'work'), { recursive: true });
    fs.writeFileSync(path.join(worktree, 'work', 'ap-next.md'), '# Next\n');
    gitIn(worktree, 'add', 'work/ap-next.md');
    gitIn(worktree, 'commit', '-q', '-m', 'ap-next: Next');
    const candidate = await buildMergeCandidate({ dir: repo }, 'main', 'refs/heads/polecat/onyx/ap-next', 'Merge ap-next');
    expect(candidate.kind).toBe('candidate');
    const files = gitIn(repo, 'ls-tree', '-r', '--name-only', (candidate as { oid: string }).oid).split('\n');
    expect(files).toEqual(expect.arrayContaining(['work/ap-faam.md', 'work/ap-next.md', 'check.sh', 'README.md']));
  });
});
