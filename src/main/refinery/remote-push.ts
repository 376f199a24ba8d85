// Pushing a gated candidate to the rig's remote. The refinery pushes before it moves the
// local target, so a push that never succeeds leaves the target untouched and the MR can
// honestly fail with `needs-retry`. Never a force push: git refuses a push that is not a
// fast-forward of the remote branch, which is exactly the safety wanted (someone else
// moved the remote; a human reconciles, the refinery does not overwrite).
import { TownClosingError } from '../sessions/session-host';
import { execFile } from 'node:child_process';
import { gitOk } from '../git/git-cli';
import type { Store } from '../store/store';
import type { RigRow } from '../store/views';

export interface PushPlan {
  repo: string;
  remote: string;
  target: string;
  sha: string;
  /** Attempts after the first. */
  retries: number;
  /** Wait before each further attempt; the last repeats. */
  backoff: number[];
  /** True once the engine stops: no further attempt (the intent on disk lets recovery tell). */
  stopping?: () => boolean;
  /** Settles when the engine stops: a backoff under way ends then, not after its full wait. */
  stopped?: Promise<unknown>;
}

export type PushOutcome = { ok: true; attempts: number } | { ok: false; attempts: number; tail: string };

/** The output of a push, by exit status; the text is kept for humans, never parsed. */
function pushOnce(repo: string, remote: string, sha: string, target: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['push', '--porcelain', remote, `${sha}:refs/heads/${target}`],
      { cwd: repo, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, timeout: 5 * 60_000 },
      (err, stdout, stderr) => resolve({ ok: !err, output: `${String(stdout)}${String(stderr)}` }),
    );
  });
}

export const backoffDelay = (backoff: number[], retry: number) => (backoff.length === 0 ? 0 : backoff[Math.min(retry, backoff.length - 1)]);

/** Pushes `sha` to `remote`'s `target`, retrying with the configured backoff. */
export async function pushWithRetry(plan: PushPlan, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Promise<PushOutcome> {
  let output = '';
  for (let attempt = 1; attempt <= plan.retries + 1; attempt++) {
    if (attempt > 1) await Promise.race([sleep(backoffDelay(plan.backoff, attempt - 2)), plan.stopped ?? new Promise(() => {})]);
    if (plan.stopping?.()) throw new TownClosingError();
    const r = await pushOnce(plan.repo, plan.remote, plan.sha, plan.target);
    if (r.ok) return { ok: true, attempts: attempt };
    output = r.output;
  }
  return { ok: false, attempts: plan.retries + 1, tail: output.trim().split('\n').slice(-20).join('\n') };
}

/**
 * The remote's tip of `target` (null: no such branch, or the remote is unreachable). Used by
 * startup recovery to learn whether a push cut off by a kill had landed.
 */
export function remoteTip(repo: string, remote: string, target: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['ls-remote', remote, `refs/heads/${target}`],
      { cwd: repo, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, timeout: 60_000 },
      (err, stdout) => resolve(err ? null : (String(stdout).split(/\s/)[0] || null)),
    );
  });
}

/**
 * The last candidate this MR pushed, when the local target does not hold it yet: an earlier
 * run pushed and then lost every compare-and-swap, or was cut off. Null without a remote.
 */
export async function pushedNotLanded(store: Store, rig: RigRow, mr: { id: string; source_bead_id: string; target: string }): Promise<string | null> {
  if (!rig.remote) return null;
  const e = store.get<{ payload: string }>(
    `SELECT payload FROM events WHERE bead_id = ? AND type = 'refinery.pushed' AND json_extract(payload, '$.mr') = ? ORDER BY seq DESC LIMIT 1`,
    mr.source_bead_id, mr.id,
  );
  const sha = e ? (JSON.parse(e.payload) as { sha: string }).sha : null;
  if (!sha || !(await gitOk(rig.path, ['cat-file', '-e', `${sha}^{commit}`]))) return null;
  return (await gitOk(rig.path, ['merge-base', '--is-ancestor', sha, `refs/heads/${mr.target}`])) ? null : sha;
}
