// Polecat and refinery worktrees. They share the rig's object store, so branches made
// here are visible to the refinery and to the user's own checkout.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { branchExists, findPriorWorkBranch, polecatBranches } from './branches';
import { git } from './git-cli';
import { resolveRef } from './merge';
import { withRefWrites } from './ref-writes';

export async function isDirty(dir: string, includeUntracked = true): Promise<boolean> {
  const out = await git(dir, ['status', '--porcelain', includeUntracked ? '--untracked-files=normal' : '--untracked-files=no']);
  return out.trim().length > 0;
}

export interface PolecatWorktree {
  rigPath: string;
  defaultBranch: string;
  worktree: string;
  branch: string;
  setupCommand: string | null;
  /** Told the setup command's process group (its own) as it starts, so an e-stop can freeze it; returns the release. */
  onSetupStarted?: (pgid: number) => () => void;
}

export interface WorktreeResult {
  created: boolean;
  stashed: boolean;
  setupOutput?: string;
  /** The branch was started from an earlier run's branch for the same bead (its work continues). */
  continuedFrom?: string;
  /** The branch was cut from the target just now: it holds no earlier run's work. */
  freshFromTarget: boolean;
  /** Stale git lock files left by a killed run, removed before reuse. */
  removedLocks?: string[];
  /**
   * The branch the worktree held before, now free: the caller deletes it if merged
   * (deleteBranchIfMerged) once the session has started, off the start's path.
   */
  freedBranch?: string;
}

/**
 * Puts the polecat's worktree on its bead branch. Creating it runs the rig's setup
 * command; reusing it runs it only if it never finished there (cut off by a stop or a kill,
 * or the rig's setup command changed). A new branch starts from an earlier run's branch
 * for the same bead when one holds commits, so committed work is never redone. Leftover
 * uncommitted work of another bead is stashed, not lost; that of this bead stays in place.
 */
export async function preparePolecatWorktree(w: PolecatWorktree): Promise<WorktreeResult> {
  const held = fs.existsSync(path.join(w.worktree, '.git')) ? await inspectWorktree(w) : null;
  // The git part in turn with the rig's other ref writes; the setup command, however long, outside.
  const { result, created } = await withRefWrites(w.rigPath, () => switchPolecatWorktree(w, held));
  if (!w.setupCommand || (!created && setupFinished(w.worktree, w.setupCommand))) return result;
  const setupOutput = await runSetup(w.setupCommand, w.worktree, w.onSetupStarted);
  fs.writeFileSync(setupMarker(w.worktree), w.setupCommand);
  return { ...result, setupOutput };
}

/** Written once the setup command finished in a worktree, in its own git dir (never in the tree). */
const setupMarker = (worktree: string) => path.join(worktreeGitDir(worktree), 'overseer-setup-done');

function setupFinished(worktree: string, command: string): boolean {
  try {
    return fs.readFileSync(setupMarker(worktree), 'utf8') === command;
  } catch {
    return false;
  }
}

interface HeldWork {
  onBranch: string;
  /** Uncommitted or untracked files of another branch (this bead's own stay in place). */
  dirty: boolean;
  removedLocks: string[];
}

/**
 * What a reused worktree holds. Nothing else writes it while its polecat is being dispatched
 * (no session runs there, and other ref writes never touch a worktree's files), so this is
 * read before the rig's ref writes are taken in turn: starts on one rig do not wait on each
 * other's dirty checks.
 */
async function inspectWorktree(w: PolecatWorktree): Promise<HeldWork> {
  // No session runs here now (we are dispatching it), so a lock is a killed run's leftover.
  const gitDir = worktreeGitDir(w.worktree);
  const removedLocks = removeStaleLocks(gitDir);
  const onBranch = checkedOutBranch(gitDir) ?? (await git(w.worktree, ['symbolic-ref', '--short', '-q', 'HEAD'], { allowFail: true })).trim();
  return { onBranch, dirty: onBranch !== w.branch && (await isDirty(w.worktree)), removedLocks };
}

async function switchPolecatWorktree(w: PolecatWorktree, held: HeldWork | null): Promise<{ result: WorktreeResult; created: boolean }> {
  // One listing answers both: does the bead branch exist, and which earlier run's holds work.
  const branches = w.branch.startsWith('polecat/') ? await polecatBranches(w.rigPath) : null;
  const hasBranch = branches ? branches.includes(w.branch) : await branchExists(w.rigPath, w.branch);
  const prior = hasBranch ? null : await findPriorWorkBranch(w.rigPath, path.basename(w.branch), w.defaultBranch, w.branch, branches ?? undefined);
  // A sha, never the target's name: `git checkout -b B main` reads main twice (the tree it
  // checks out, then the ref it creates B at), so a merge landing in between put B on the
  // new tip over the old files, and the agent's next commit deleted the merged work.
  const startPoint = prior ? prior.head : hasBranch ? '' : await targetTip(w.rigPath, w.defaultBranch);
  const continuedFrom = { freshFromTarget: !hasBranch && !prior, ...(prior ? { continuedFrom: prior.branch } : {}) };
  if (!held) {
    await git(w.rigPath, ['worktree', 'prune']);
    fs.mkdirSync(path.dirname(w.worktree), { recursive: true });
    if (hasBranch) await git(w.rigPath, ['worktree', 'add', w.worktree, w.branch]);
    else await git(w.rigPath, ['worktree', 'add', '-b', w.branch, w.worktree, startPoint]);
    return { created: true, result: { created: true, stashed: false, ...continuedFrom } };
  }
  const { onBranch, dirty, removedLocks } = held;
  if (dirty) await git(w.worktree, ['stash', 'push', '--include-untracked', '-m', `overseer: left in ${path.basename(w.worktree)} before ${w.branch}`]);
  if (onBranch !== w.branch) {
    if (hasBranch) await git(w.worktree, ['checkout', w.branch]);
    else await git(w.worktree, ['checkout', '-b', w.branch, startPoint]);
  }
  const freed = onBranch && onBranch !== w.branch ? { freedBranch: onBranch } : {};
  return { created: false, result: { created: false, stashed: dirty, removedLocks, ...continuedFrom, ...freed } };
}

/** The commit the target names now (in-process; git itself when it cannot tell). */
async function targetTip(rigPath: string, target: string): Promise<string> {
  const tip = await resolveRef({ dir: rigPath }, `refs/heads/${target}`);
  return tip ?? (await git(rigPath, ['rev-parse', '--verify', '-q', `refs/heads/${target}^{commit}`])).trim();
}

// Read from files, not with git processes: each one is ~8 ms on the dispatch's path.

/** A linked worktree's own git dir, from its `.git` file (`gitdir: …`); a plain checkout's `.git`. */
function worktreeGitDir(worktree: string): string {
  const dotGit = path.join(worktree, '.git');
  if (fs.statSync(dotGit).isDirectory()) return dotGit;
  const m = /^gitdir:\s*(.+)$/m.exec(fs.readFileSync(dotGit, 'utf8'));
  if (!m) throw new Error(`${dotGit} does not name a git dir`);
  return path.resolve(worktree, m[1].trim());
}

/**
 * The branch HEAD names (`ref: refs/heads/…`), '' when detached, or null when the file does
 * not say (a reftable repository keeps the stub `refs/heads/.invalid`): then ask git.
 */
function checkedOutBranch(gitDir: string): string | null {
  const head = fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
  if (!head.startsWith('ref: ')) return '';
  const ref = head.slice('ref: '.length);
  return ref.startsWith('refs/heads/') && ref !== 'refs/heads/.invalid' ? ref.slice('refs/heads/'.length) : null;
}

const GIT_LOCKS = ['index.lock', 'HEAD.lock', 'ORIG_HEAD.lock'];

/** Removes git lock files in a worktree's own git dir (call only when nothing runs there). */
function removeStaleLocks(gitDir: string): string[] {
  const removed: string[] = [];
  for (const name of GIT_LOCKS) {
    const file = path.join(gitDir, name);
    if (fs.existsSync(file)) {
      fs.rmSync(file, { force: true });
      removed.push(file);
    }
  }
  return removed;
}

export class SetupFailedError extends Error {
  constructor(readonly command: string, readonly output: string, readonly exitCode: number | null) {
    super(`setup command failed (exit ${exitCode}): ${command}`);
    this.name = 'SetupFailedError';
  }
}

/** The rig's own setup command (configured by the overseer, never bead text). */
function runSetup(command: string, cwd: string, onStarted?: (pgid: number) => () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    // In a process group of its own (pgid = pid), so an e-stop stops all of it and nothing else.
    const child = spawn('/bin/sh', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const release = child.pid !== undefined && onStarted ? onStarted(child.pid) : () => {};
    let out = '';
    const take = (d: Buffer) => {
      out = (out + d.toString()).slice(-64 * 1024);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (err) => {
      release();
      reject(new SetupFailedError(command, String(err), null));
    });
    child.on('close', (code) => {
      release();
      if (code === 0) resolve(out);
      else reject(new SetupFailedError(command, out, code));
    });
  });
}

/** The refinery's own worktree, detached at `commit`. It is ours, so it is reset hard. */
export async function checkoutDetached(rigPath: string, dir: string, commit: string): Promise<void> {
  if (!fs.existsSync(path.join(dir, '.git'))) {
    await git(rigPath, ['worktree', 'prune']);
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    await git(rigPath, ['worktree', 'add', '--detach', dir, commit]);
    return;
  }
  removeStaleLocks(worktreeGitDir(dir)); // one merge at a time per rig: a lock here is a killed run's
  await git(dir, ['checkout', '--detach', '--force', commit]);
  await git(dir, ['clean', '-fd']);
}
