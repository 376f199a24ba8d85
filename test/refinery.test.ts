// The refinery's guard rails: a failing gate leaves main untouched and says why; local
// changes in the user's checkout make the merge wait instead of trampling them.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitIn, makeRepo } from './helpers/repo';
import { removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

async function servedTown(test: string, extra: string[] = []) {
  const base = tempDir('ref');
  const dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  await town(dir, ['init', dir]);
  await townJson(dir, 'rig', 'add', 'app', repo, '--test', test, '--prefix', 'ap', ...extra);
  const s = new ServedTown(dir);
  served.push(s);
  await s.start();
  return { dir, repo };
}

describe('the refinery', () => {
  it('leaves main untouched when the gate fails, and shows the gate output tail', async () => {
    const { dir, repo } = await servedTown('echo "3 tests, 1 failure: parser_spec"; exit 1');
    // No rework rounds (test/refinery-rework.test.ts has those): the first failure is final.
    await townJson(dir, 'config', 'set', 'mq.max_retries', '0');
    const mainBefore = gitIn(repo, 'rev-parse', 'main');
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Breaks the build');
    await townJson(dir, 'sling', bead.id);
    const failed = await waitFor('the bead to fail', async () => {
      const b = await townJson(dir, 'bead', 'show', bead.id);
      return b.status === 'failed' ? b : null;
    });
    expect(failed.close_reason).toMatch(/gate:test/);
    const [mr] = await townJson(dir, 'mr', 'list');
    expect(mr.state).toBe('failed');
    expect(mr.failure.type).toBe('gate:test');
    expect(mr.failure.tail).toContain('1 failure: parser_spec');
    expect(gitIn(repo, 'rev-parse', 'main')).toBe(mainBefore);
  });

  it('waits while the user has local changes on the target branch, then merges once they are committed', async () => {
    const { dir, repo } = await servedTown('sh check.sh', ['--setup', 'echo setup ran >> ../setup.log']);
    await townJson(dir, 'config', 'set', 'blocked_retry_s', '1');
    fs.writeFileSync(path.join(repo, 'README.md'), '# test repo\n\nwork in progress\n');
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Lands after the user commits');
    await townJson(dir, 'sling', bead.id);
    const blocked = await waitFor('the MR to block', async () => (await townJson(dir, 'mr', 'list')).find((m: any) => m.state === 'blocked'));
    expect(blocked.blocked_reason).toMatch(/uncommitted changes on main/);
    expect(fs.readFileSync(path.join(repo, 'README.md'), 'utf8')).toContain('work in progress');

    gitIn(repo, 'commit', '-qam', 'user work');
    await waitFor('the bead to merge', async () => (await townJson(dir, 'bead', 'show', bead.id)).status === 'closed');
    expect(gitIn(repo, 'status', '--porcelain')).toBe('');
    expect(fs.existsSync(path.join(repo, 'work', `${bead.id}.md`))).toBe(true);
    expect(gitIn(repo, 'log', '--format=%s', '-3', 'main')).toContain('user work');
    // The setup command ran once, when the polecat's worktree was created.
    expect(fs.readFileSync(path.join(dir, 'worktrees', 'app', 'setup.log'), 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('fails a branch with no commits of its own with that reason, and tells the overseer', async () => {
    const { dir, repo } = await servedTown('true', ['--runtime', 'shell', '--command', 'town done']);
    const mainBefore = gitIn(repo, 'rev-parse', 'main');
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Does nothing');
    await townJson(dir, 'sling', bead.id);
    const failed = await waitFor('the bead to fail', async () => {
      const b = await townJson(dir, 'bead', 'show', bead.id);
      return b.status === 'failed' ? b : null;
    });
    expect(failed.close_reason).toMatch(/no-commits/);
    const [mr] = await townJson(dir, 'mr', 'list');
    expect(mr.failure.type).toBe('no-commits');
    expect(mr.failure.tail).toMatch(/has no commits of its own/);
    expect((await townJson(dir, 'escalations')).map((e: any) => e.reason)).toContain('merge failed (no-commits)');
    expect(gitIn(repo, 'rev-parse', 'main')).toBe(mainBefore);
  });
});
