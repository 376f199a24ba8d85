// What a crash leaves half done, finished on restart: committed work that was never
// reported, and a refinery killed between moving the target and updating the checkout.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitIn, makeRepo } from './helpers/repo';
import { FAST_AGENTS, removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

async function newTown(extra: string[] = []) {
  const base = tempDir('crash');
  const dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  await town(dir, ['init', dir]);
  await townJson(dir, 'rig', 'add', 'app', repo, '--prefix', 'ap', ...extra);
  await townJson(dir, 'config', 'set', 'blocked_retry_s', '1');
  return { dir, repo };
}

async function serve(dir: string, env: Record<string, string> = {}) {
  const s = new ServedTown(dir, { ...FAST_AGENTS, ...env });
  served.push(s);
  await s.start();
  return s;
}

/** A bead slung to a town whose engine kills itself right after the refinery moves main. */
async function mergedAsTheEngineDies(dir: string) {
  const b = await bead(dir, '--title', 'Merged as the engine dies');
  const crashing = await serve(dir, { TOWN_FAULTS: 'refinery.after-ref-move' });
  await townJson(dir, 'sling', b.id);
  await crashing.exited();
  return b;
}

const bead = (dir: string, ...args: string[]) => townJson(dir, 'bead', 'create', '--rig', 'app', ...args);
const beadStatus = async (dir: string, id: string) => (await townJson(dir, 'bead', 'show', id)).status;
const mergesOf = (repo: string, id: string) => gitIn(repo, 'log', '--first-parent', '--format=%s', 'main').split('\n').filter((s) => s.startsWith(`Merge ${id}:`));
const events = (dir: string) => townJson(dir, 'events', '--limit', '10000');

describe('after a crash', () => {
  it('finishes a merge killed after the target moved: the checkout follows, nothing merges twice, the next MR lands', async () => {
    const { dir, repo } = await newTown(['--test', 'sh check.sh']);
    const first = await mergedAsTheEngineDies(dir);

    // The kill hit between the ref move and the checkout update: main names the merge,
    // while the user's files are still those of the commit before it.
    expect(gitIn(repo, 'show', `main:work/${first.id}.md`)).toContain('Merged as the engine dies');
    expect(fs.existsSync(path.join(repo, 'work', `${first.id}.md`))).toBe(false);
    expect(gitIn(repo, 'status', '--porcelain')).not.toBe('');

    await serve(dir);
    await waitFor('the first bead to close', async () => (await beadStatus(dir, first.id)) === 'closed');
    expect(gitIn(repo, 'status', '--porcelain')).toBe('');
    expect(fs.existsSync(path.join(repo, 'work', `${first.id}.md`))).toBe(true);
    expect(mergesOf(repo, first.id)).toHaveLength(1);

    const second = await bead(dir, '--title', 'Lands after the recovery');
    await townJson(dir, 'sling', second.id);
    await waitFor('the second bead to close', async () => (await beadStatus(dir, second.id)) === 'closed');
    const mrs = await townJson(dir, 'mr', 'list');
    expect(mrs.map((m: any) => m.state)).toEqual(['merged', 'merged']);
    expect(gitIn(repo, 'status', '--porcelain')).toBe('');
  });

  it('after a kill mid-update, carries the user\'s own edits along and never advises committing the files left behind', async () => {
    // Each bead's agent adds a line to README.md, so the user's edit there meets the merge.
    const script = 'echo "merged line $TOWN_BEAD" >> README.md && git commit -qam "{bead} readme" && town done';
    const { dir, repo } = await newTown(['--runtime', 'shell', '--command', script]);
    const first = await mergedAsTheEngineDies(dir);
    // Before the town comes back, the user edits README.md (still the old version on disk)
    // and a file of their own.
    fs.writeFileSync(path.join(repo, 'README.md'), '# test repo\nmy own edit\n');
    fs.writeFileSync(path.join(repo, 'check.sh'), fs.readFileSync(path.join(repo, 'check.sh'), 'utf8') + '# mine\n');

    await serve(dir);
    await waitFor('the first bead to close', async () => (await beadStatus(dir, first.id)) === 'closed');
    const inbox = await townJson(dir, 'mail', 'inbox');
    const notice = inbox.find((m: any) => m.subject.includes('checkout did not follow'));
    expect(notice.body).toContain('README.md');
    expect(notice.body).toContain('do not commit them as they are');

    const second = await bead(dir, '--title', 'Waits for the checkout');
    await townJson(dir, 'sling', second.id);
    const blocked = await waitFor('the second MR to block', async () => (await townJson(dir, 'mr', 'list')).find((m: any) => m.state === 'blocked'));
    expect(blocked.blocked_reason).toContain('README.md');
    expect(blocked.blocked_reason).toContain('do not commit them as they are');
    expect(blocked.blocked_reason).not.toMatch(/commit or stash/i);
    expect(blocked.blocked_reason).not.toContain('check.sh'); // the user's own change, untouched by the merge

    // Following the advice: the merged README.md back, the user's edit on top, committed.
    gitIn(repo, 'checkout', 'HEAD', '--', 'README.md');
    fs.writeFileSync(path.join(repo, 'README.md'), 'my own edit\n' + fs.readFileSync(path.join(repo, 'README.md'), 'utf8'));
    gitIn(repo, 'commit', '-qam', 'my own edits');
    await waitFor('the second bead to close', async () => (await beadStatus(dir, second.id)) === 'closed');
    const readme = gitIn(repo, 'show', 'main:README.md');
    expect(readme).toContain(`merged line ${first.id}`);
    expect(readme).toContain(`merged line ${second.id}`);
    expect(readme).toContain('my own edit');
  });

  it('after a kill mid-update, brings the checkout along with the user\'s edits to other files kept', async () => {
    const { dir, repo } = await newTown(['--test', 'sh check.sh']);
    const first = await mergedAsTheEngineDies(dir);
    fs.writeFileSync(path.join(repo, 'README.md'), '# test repo\n\nmy own edit\n');
    await serve(dir);
    await waitFor('the first bead to close', async () => (await beadStatus(dir, first.id)) === 'closed');
    expect(fs.existsSync(path.join(repo, 'work', `${first.id}.md`))).toBe(true);
    expect(gitIn(repo, 'status', '--porcelain')).toBe('M README.md');
    const inbox = await townJson(dir, 'mail', 'inbox');
    expect(inbox.some((m: any) => m.subject.includes('checkout did not follow'))).toBe(false);
  });

  it('ends a session whose start was reported but not yet applied when the engine died, so its bead is worked again', async () => {
    const { dir, repo } = await newTown(['--test', 'sh check.sh']);
    const b = await bead(dir, '--title', 'Started as the engine dies');
    const crashing = await serve(dir, { TOWN_FAULTS: 'engine.after-session-spawned' });
    await townJson(dir, 'sling', b.id);
    await crashing.exited();
    await serve(dir);
    // Not left "working" on a session that died with the previous run: dispatched again, merged.
    await waitFor('the bead to close', async () => (await beadStatus(dir, b.id)) === 'closed', 30_000);
    expect(mergesOf(repo, b.id)).toHaveLength(1);
  });

  it('offers committed but unreported work to the refinery instead of starting the bead over', async () => {
    const { dir, repo } = await newTown(['--test', 'sh check.sh']);
    const work = await bead(dir, '--title', 'Committed before the crash', '--scenario', 'commit-then-work');
    const first = await serve(dir, { TOWN_SCRIPTED_PACE_MS: '600' });
    await townJson(dir, 'sling', work.id);
    // The agent has committed and is still "checking" when the engine dies.
    await waitFor('the commit on the polecat branch', () => gitIn(repo, 'for-each-ref', '--format=%(refname)', `refs/heads/polecat/*/${work.id}`) !== '' &&
      gitIn(repo, 'log', '--format=%s', `main..polecat/quartz/${work.id}`).includes(work.id));
    await first.kill();

    await serve(dir);
    await waitFor('the bead to close', async () => (await beadStatus(dir, work.id)) === 'closed', 60_000);
    const log = await events(dir);
    expect(log.some((e: any) => e.type === 'work.recovered' && e.bead === work.id)).toBe(true);
    // One agent run only: the restart did not start the bead over.
    expect(log.filter((e: any) => e.type === 'session.spawned' && e.bead === work.id)).toHaveLength(1);
    expect(mergesOf(repo, work.id)).toHaveLength(1);
  });

  it('tells a re-dispatched agent what its branch already holds, and it continues from there', async () => {
    // A shell agent that commits without naming its bead and crashes; its second run
    // records what `town hook` says and reports done.
    const script = 'if [ -f ../ran-{bead} ]; then town hook --json > ../hook-{bead}.json && town done; else touch ../ran-{bead}; echo draft > draft.txt; git add draft.txt; git commit -qm "first draft"; exit 1; fi';
    const { dir, repo } = await newTown(['--runtime', 'shell', '--command', script]);
    await townJson(dir, 'config', 'set', 'dispatch_backoff_s', '[0]');
    const b = await bead(dir, '--title', 'Continues a draft');
    await serve(dir);
    await townJson(dir, 'sling', b.id);
    await waitFor('the bead to close', async () => (await beadStatus(dir, b.id)) === 'closed', 60_000);
    const hook = JSON.parse(fs.readFileSync(path.join(dir, 'worktrees', 'app', `hook-${b.id}.json`), 'utf8'));
    expect(hook.prior_work.commits.map((c: any) => c.subject)).toEqual(['first draft']);
    expect(gitIn(repo, 'show', 'main:draft.txt')).toBe('draft');
  });

  it('merges the commit the agent submitted, not what its branch holds later', async () => {
    const script = 'echo a > a.txt && git add a.txt && git commit -qm "{bead} a" && town done && echo b > b.txt && git add b.txt && git commit -qm late';
    const { dir, repo } = await newTown(['--runtime', 'shell', '--command', script]);
    fs.writeFileSync(path.join(repo, 'README.md'), '# test repo\n\nlocal edit\n'); // holds the MR until the late commit exists
    const b = await bead(dir, '--title', 'Submits a then commits b');
    await serve(dir);
    await townJson(dir, 'sling', b.id);
    await waitFor('the MR to block', async () => (await townJson(dir, 'mr', 'list')).some((m: any) => m.state === 'blocked'));
    await waitFor('the late commit', () => gitIn(repo, 'log', '--format=%s', '-1', `polecat/quartz/${b.id}`) === 'late');
    gitIn(repo, 'commit', '-qam', 'user edit');
    await waitFor('the bead to close', async () => (await beadStatus(dir, b.id)) === 'closed');
    expect(gitIn(repo, 'show', 'main:a.txt')).toBe('a');
    expect(() => gitIn(repo, 'show', 'main:b.txt')).toThrow();
  });

  it('keeps a merge merged when the checkout cannot follow, and says why', async () => {
    const { dir, repo } = await newTown(['--test', 'sh check.sh']);
    const b = await bead(dir, '--title', 'Collides with an untracked file');
    fs.mkdirSync(path.join(repo, 'work'));
    fs.writeFileSync(path.join(repo, 'work', `${b.id}.md`), 'the user left this here\n');
    await serve(dir);
    await townJson(dir, 'sling', b.id);
    await waitFor('the bead to close', async () => (await beadStatus(dir, b.id)) === 'closed');
    const [mr] = await townJson(dir, 'mr', 'list');
    expect(mr.state).toBe('merged');
    expect(fs.readFileSync(path.join(repo, 'work', `${b.id}.md`), 'utf8')).toBe('the user left this here\n');
    const inbox = await townJson(dir, 'mail', 'inbox');
    expect(inbox.some((m: any) => m.subject.includes('checkout did not follow'))).toBe(true);
  });
});
