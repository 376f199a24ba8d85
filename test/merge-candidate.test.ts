// The refinery builds merge commits in-process. An engine killed while it wrote one could
// leave an empty object file behind (crash-chaos seed 751139338 once did: every later merge
// of that bead "built" onto it, git refused to check the candidate out, and the bead failed
// with "object file … is empty"). The next build must replace the leftover.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildMergeCandidate } from '../src/main/git/merge';
import { gitIn, makeRepo } from './helpers/repo';
import { removeTempDirs, tempDir } from './helpers/town';

afterEach(() => removeTempDirs());

function beadBranch(repo: string, branch: string, file: string) {
  gitIn(repo, 'checkout', '-q', '-b', branch);
  fs.mkdirSync(path.join(repo, 'work'), { recursive: true });
  fs.writeFileSync(path.join(repo, file), '# A bead\n');
  gitIn(repo, 'add', file);
  gitIn(repo, 'commit', '-q', '-m', `${branch}: a bead`);
  gitIn(repo, 'checkout', '-q', 'main');
}

const objectFile = (repo: string, oid: string) => path.join(repo, '.git', 'objects', oid.slice(0, 2), oid.slice(2));

describe('a merge candidate', () => {
  it('is whole after a kill left one of its objects empty: the next build writes it again', async () => {
    const base = tempDir('candidate');
    const repo = makeRepo(path.join(base, 'repo'));
    beadBranch(repo, 'polecat/onyx/ap-1', 'work/ap-1.md');
    beadBranch(repo, 'polecat/onyx/ap-2', 'work/ap-2.md');
    // main moves on with ap-1, so ap-2's candidate needs a new tree (a true merge).
    gitIn(repo, 'merge', '-q', '--no-ff', '-m', 'Merge ap-1', 'polecat/onyx/ap-1');

    const first = await buildMergeCandidate({ dir: repo }, 'main', 'refs/heads/polecat/onyx/ap-2', 'Merge ap-2');
    if (first.kind !== 'candidate') throw new Error(`expected a candidate, got ${first.kind}`);
    const tree = gitIn(repo, 'rev-parse', `${first.oid}^{tree}`);
    const work = gitIn(repo, 'rev-parse', `${first.oid}:work`);
    // What a kill between creating the files and filling them leaves (trees: the same on every build).
    for (const oid of [tree, work]) fs.truncateSync(objectFile(repo, oid), 0);

    const again = await buildMergeCandidate({ dir: repo }, 'main', 'refs/heads/polecat/onyx/ap-2', 'Merge ap-2');
    if (again.kind !== 'candidate') throw new Error(`expected a candidate, got ${again.kind}`);
    expect(gitIn(repo, 'ls-tree', '-r', '--name-only', again.oid).split('\n')).toEqual(['README.md', 'check.sh', 'work/ap-1.md', 'work/ap-2.md']);
    expect(gitIn(repo, 'fsck', '--no-dangling', '--no-progress')).toBe('');
    // Nothing is left aside in the object store.
    const aside = fs.readdirSync(path.join(repo, '.git', 'objects'), { recursive: true }).map(String).filter((f) => f.includes('tmp_obj_overseer'));
    expect(aside).toEqual([]);
  });
});
