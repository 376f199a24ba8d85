// Branches read from the ref files say what git says: loose, packed, a loose one moved past
// its packed copy, a packed one deleted, seen from the rig and from a linked worktree.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readBranch, readBranches } from '../src/main/git/ref-files';
import { gitIn, makeRepo } from './helpers/repo';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const gitSays = (repo: string) =>
  new Map(
    gitIn(repo, 'for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads/polecat/')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ') as [string, string]),
  );

describe('branches from ref files', () => {
  it('agree with git for loose, packed, moved and deleted branches', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-reff-'));
    dirs.push(dir);
    const rig = makeRepo(path.join(dir, 'rig'));
    for (const b of ['polecat/a/x', 'polecat/a/y', 'polecat/b/x', 'other']) gitIn(rig, 'branch', b);
    gitIn(rig, 'pack-refs', '--all');
    gitIn(rig, 'branch', 'polecat/c/z');
    gitIn(rig, 'worktree', 'add', '-q', path.join(dir, 'wt'), 'polecat/a/x');
    gitIn(path.join(dir, 'wt'), 'commit', '-q', '--allow-empty', '-m', 'moves a packed branch: now loose too');
    gitIn(rig, 'branch', '-D', 'polecat/a/y');

    expect(readBranches(rig, 'polecat/')).toEqual(gitSays(rig));
    expect(readBranches(path.join(dir, 'wt'), 'polecat/')).toEqual(gitSays(rig));
    expect(readBranch(rig, 'polecat/a/x')).toBe(gitIn(rig, 'rev-parse', 'polecat/a/x'));
    expect(readBranch(rig, 'polecat/b/x')).toBe(gitIn(rig, 'rev-parse', 'polecat/b/x'));
    expect(readBranch(rig, 'main')).toBe(gitIn(rig, 'rev-parse', 'main'));
    expect(readBranch(rig, 'polecat/a/y')).toBeNull();
  });
});
