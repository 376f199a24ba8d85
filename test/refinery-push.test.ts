// Pushing to a rig's remote (a local bare repository): a merge lands there; a push that
// fails once is retried and lands; a push that always fails leaves the local target as it
// was, fails the MR with `needs-retry` (its bead stays in review) and tells the overseer.
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

/** A rig whose repository has `origin`, a bare repository holding main; `hook` becomes its pre-receive hook. */
async function townWithRemote(label: string, hook?: string | ((repo: string) => string), env: Record<string, string> = {}) {
  const base = tempDir(label);
  const dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  const bare = path.join(base, 'remote.git');
  gitIn(base, 'init', '-q', '--bare', '-b', 'main', bare);
  gitIn(repo, 'remote', 'add', 'origin', bare);
  gitIn(repo, 'push', '-q', 'origin', 'main');
  const script = typeof hook === 'function' ? hook(repo) : hook;
  if (script) fs.writeFileSync(path.join(bare, 'hooks', 'pre-receive'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  await town(dir, ['init', dir]);
  await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'sh check.sh', '--prefix', 'ap', '--remote', 'origin');
  await townJson(dir, 'config', 'set', 'mq.push_backoff', '1s');
  const s = new ServedTown(dir, { ...FAST_AGENTS, ...env });
  served.push(s);
  await s.start();
  return { base, dir, repo, bare, served: s };
}

async function slingNew(dir: string, title: string) {
  const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', title);
  await townJson(dir, 'sling', bead.id);
  return bead.id as string;
}

const eventsOf = async (dir: string, type: string) =>
  (await townJson(dir, 'events', '--limit', '1000')).filter((e: { type: string }) => e.type === type);

describe('the refinery pushing to a remote', () => {
  it('refuses a remote the repository does not know, naming the field', async () => {
    const base = tempDir('push-unknown');
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    await town(dir, ['init', dir]);
    const r = await town(dir, ['--json', 'rig', 'add', 'app', repo, '--remote', 'upstream']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/remote/);
    expect(r.stderr).toContain('no git remote named upstream');
  });

  it('lands the merge on the remote', async () => {
    const { dir, repo, bare } = await townWithRemote('push-lands');
    const id = await slingNew(dir, 'Reaches the remote');
    await waitFor('the bead to merge', async () => (await townJson(dir, 'bead', 'show', id)).status === 'closed');
    expect(gitIn(bare, 'rev-parse', 'main')).toBe(gitIn(repo, 'rev-parse', 'main'));
    expect(gitIn(bare, 'show', `main:work/${id}.md`)).toMatch(/^# /);
    const [pushed] = await eventsOf(dir, 'refinery.pushed');
    expect(pushed.payload).toMatchObject({ remote: 'origin', target: 'main', attempts: 1 });
  });

  it('retries a push the remote refused once, and lands', async () => {
    // The hook refuses the first push it sees and accepts the next.
    const { dir, repo, bare } = await townWithRemote('push-retry', `
if [ ! -e "${'$GIT_DIR'}/refused-once" ]; then touch "${'$GIT_DIR'}/refused-once"; echo "remote busy, try later" >&2; exit 1; fi
exit 0`);
    const id = await slingNew(dir, 'Lands on the second push');
    await waitFor('the bead to merge', async () => (await townJson(dir, 'bead', 'show', id)).status === 'closed');
    expect(fs.existsSync(path.join(bare, 'refused-once'))).toBe(true);
    expect(gitIn(bare, 'rev-parse', 'main')).toBe(gitIn(repo, 'rev-parse', 'main'));
    const [pushed] = await eventsOf(dir, 'refinery.pushed');
    expect(pushed.payload.attempts).toBe(2);
    expect((await townJson(dir, 'mr', 'list'))[0].state).toBe('merged');
  });

  it('fails the MR with needs-retry when every push fails, leaving main where it was', async () => {
    const { dir, repo, bare } = await townWithRemote('push-fails', 'echo "permission denied to the merge bot" >&2; exit 1');
    await townJson(dir, 'config', 'set', 'mq.push_retries', '2');
    const mainBefore = gitIn(repo, 'rev-parse', 'main');
    const id = await slingNew(dir, 'Never reaches the remote');
    const mr = await waitFor('the MR to fail', async () => (await townJson(dir, 'mr', 'list')).find((m: any) => m.state === 'failed'));
    expect(mr.failure.type).toBe('push');
    expect(mr.failure.tail).toContain('permission denied to the merge bot');
    expect(mr.failure.tail).toMatch(/after 3 attempt\(s\); main was left as it was/);
    // Nothing merged anywhere: the local target and the remote are where they were.
    expect(gitIn(repo, 'rev-parse', 'main')).toBe(mainBefore);
    expect(gitIn(bare, 'rev-parse', 'main')).toBe(mainBefore);
    expect((await townJson(dir, 'bead', 'show', mr.id)).labels).toContain('needs-retry');
    const escalations = await townJson(dir, 'escalations');
    expect(escalations.map((e: any) => e.reason)).toContain('push to origin failed');
    // The work is fine: its bead waits in review for the retry, and stays there.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await townJson(dir, 'bead', 'show', id)).status).toBe('in_review');
    expect((await town(dir, ['events', '--limit', '1000'])).stdout).toContain('push to origin/main failed after 3 attempt(s)');
  });

  it('finishes a merge whose push landed just before the engine was killed', async () => {
    // Killed after the push, before the local compare-and-swap: the remote has the merge,
    // main does not. The restart sees the remote holds the intended commit and moves main.
    const { dir, repo, bare, served: crashing } = await townWithRemote('push-crash', undefined, { TOWN_FAULTS: 'refinery.before-ref-move' });
    const mainBefore = gitIn(repo, 'rev-parse', 'main');
    const id = await slingNew(dir, 'Pushed as the engine dies');
    await crashing.exited();
    expect(gitIn(repo, 'rev-parse', 'main')).toBe(mainBefore);
    expect(gitIn(bare, 'show', `main:work/${id}.md`)).toMatch(/^# /);

    const s = new ServedTown(dir);
    served.push(s);
    await s.start();
    await waitFor('the bead to merge', async () => (await townJson(dir, 'bead', 'show', id)).status === 'closed');
    expect(gitIn(repo, 'rev-parse', 'main')).toBe(gitIn(bare, 'rev-parse', 'main'));
    const merges = gitIn(repo, 'log', '--first-parent', '--format=%s', 'main').split('\n').filter((l) => l.startsWith(`Merge ${id}:`));
    expect(merges).toHaveLength(1);
    expect((await townJson(dir, 'mr', 'list'))[0].state).toBe('merged');
  });

  it('keeps the remote a fast-forward when main moves locally during the push', async () => {
    // The remote's hook commits on main in the user's checkout while it accepts the first
    // push: the local compare-and-swap then fails. The rebuild merges the pushed candidate
    // (not the branch again), so its push fast-forwards the remote and nothing is lost.
    const outside = (repo: string) =>
      `[ -e "$GIT_DIR/moved" ] && exit 0; touch "$GIT_DIR/moved"\n` +
      `env -i PATH="$PATH" HOME="$HOME" sh -c 'cd "${repo}" && echo "from outside" > outside.md && git add outside.md && git -c user.name=u -c user.email=u@u commit -qm "outside commit"'`;
    const { dir, repo, bare } = await townWithRemote('push-moved', outside);
    const id = await slingNew(dir, 'Pushed, then main moved');
    await waitFor('the bead to merge', async () => (await townJson(dir, 'bead', 'show', id)).status === 'closed');
    expect(gitIn(repo, 'show', 'main:outside.md')).toBe('from outside');
    expect(gitIn(bare, 'rev-parse', 'main')).toBe(gitIn(repo, 'rev-parse', 'main'));
    const merges = gitIn(repo, 'log', '--first-parent', '--format=%s', 'main').split('\n').filter((l) => l.startsWith(`Merge ${id}:`));
    expect(merges).toHaveLength(1);
    const pushes = await eventsOf(dir, 'refinery.pushed');
    expect(pushes).toHaveLength(2);
    // The second push carried the first: the remote never had to be forced.
    gitIn(bare, 'merge-base', '--is-ancestor', pushes[0].payload.sha, 'main');
  });

  it('never leaves the remote holding a merge main lacks without saying so, and the retry brings main to it', async () => {
    // The remote's hook commits on main in the user's checkout at every push (until told to
    // stop): each compare-and-swap after a landed push loses, three times in a row.
    const outside = (repo: string) =>
      `[ -e "$GIT_DIR/calm" ] && exit 0\n` +
      `n=$(cat "$GIT_DIR/moves" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$GIT_DIR/moves"\n` +
      `env -i PATH="$PATH" HOME="$HOME" sh -c "cd '${repo}' && echo outside > outside-$n.md && git add outside-$n.md && git -c user.name=u -c user.email=u@u commit -qm 'outside commit $n'"`;
    const { dir, repo, bare } = await townWithRemote('push-moved-thrice', outside);
    const id = await slingNew(dir, 'Pushed, then main kept moving');
    const mr = await waitFor('the MR to fail', async () => (await townJson(dir, 'mr', 'list')).find((m: any) => m.state === 'failed'));
    const remoteTipSha = gitIn(bare, 'rev-parse', 'main');
    const localTip = gitIn(repo, 'rev-parse', 'main');
    // The two disagree, and the failure says so, naming both commits.
    expect(remoteTipSha).not.toBe(localTip);
    expect(mr.failure.type).toBe('target-moved');
    expect(mr.failure.tail).toContain(`origin/main holds the merge ${remoteTipSha.slice(0, 10)}`);
    expect(mr.failure.tail).toContain(`moved to ${localTip.slice(0, 10)}`);
    const escalation = (await townJson(dir, 'escalations')).find((e: any) => e.reason === 'merge failed (target-moved)');
    expect(escalation.severity).toBe('high');
    expect(escalation.body).toContain(remoteTipSha.slice(0, 10));
    expect(escalation.body).toContain(localTip.slice(0, 10));

    // Main holds still now: the retry merges what the remote holds onto the local tip and
    // pushes that as a fast-forward (the remote was never forced), so the two agree again.
    fs.writeFileSync(path.join(bare, 'calm'), '');
    await townJson(dir, 'mq', 'retry', mr.id);
    await waitFor('the MR to merge', async () => (await townJson(dir, 'mq', 'show', mr.id)).state === 'merged');
    expect(gitIn(bare, 'rev-parse', 'main')).toBe(gitIn(repo, 'rev-parse', 'main'));
    gitIn(bare, 'merge-base', '--is-ancestor', remoteTipSha, 'main');
    gitIn(repo, 'merge-base', '--is-ancestor', localTip, 'main');
    expect(gitIn(repo, 'show', `main:work/${id}.md`)).toMatch(/^# /);
    expect(gitIn(repo, 'show', 'main:outside-3.md')).toBe('outside');
  });
});
