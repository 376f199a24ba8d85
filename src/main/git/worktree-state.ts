// A cheap fingerprint of a worktree's git state (HEAD, index, working-tree status), so an
// agent that commits, stages or edits files counts as making progress even when its
// screen is still. Read without taking git's optional locks: the sample never rewrites
// the index the agent is using (which would also look like a change).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { git } from './git-cli';

export interface WorktreeState {
  head: string | null;
  indexMtimeMs: number | null;
  /** Hash of `git status --porcelain`: changes when files are edited, staged or added. */
  status: string;
  /** Paths the status lists. */
  changed: number;
}

const QUIET = { GIT_OPTIONAL_LOCKS: '0' };

export async function readWorktreeState(dir: string): Promise<WorktreeState> {
  // One spawn for both; the order git prints them in is not what was asked, so tell them apart.
  const lines = (await git(dir, ['rev-parse', '--git-path', 'index', '--verify', '-q', 'HEAD'], { allowFail: true, env: QUIET }))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const sha = lines.find((l) => /^[0-9a-f]{40,64}$/.test(l)) ?? null;
  const index = lines.find((l) => l !== sha) ?? null;
  let indexMtimeMs: number | null = null;
  try {
    indexMtimeMs = index ? fs.statSync(path.resolve(dir, index)).mtimeMs : null;
  } catch {
    // no index yet
  }
  const porcelain = await git(dir, ['status', '--porcelain=v1', '-z', '--untracked-files=normal'], { env: QUIET });
  return {
    head: sha,
    indexMtimeMs,
    status: createHash('sha1').update(porcelain).digest('hex'),
    changed: porcelain.split('\0').filter(Boolean).length,
  };
}

/** What changed between two samples, in a line a person reads; null when nothing did. */
export function describeWorktreeChange(before: WorktreeState, after: WorktreeState): string | null {
  if (before.head !== after.head) return `git: HEAD moved ${short(before.head)} → ${short(after.head)}`;
  if (before.status !== after.status) return `git: working tree changed (${after.changed === 1 ? '1 path differs' : `${after.changed} paths differ`} from HEAD)`;
  if (before.indexMtimeMs !== after.indexMtimeMs) return 'git: index updated';
  return null;
}

const short = (sha: string | null) => (sha ? sha.slice(0, 8) : 'none');
