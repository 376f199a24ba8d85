// The refinery's own worktree, prepared like a polecat's: the rig's setup command runs
// when the worktree is created and again when a file it depends on (a lockfile, by
// default) differs at the candidate from what the last setup saw. Ignored build outputs
// (node_modules, target/, .venv) stay between candidates, so an unchanged candidate
// needs no setup. The refinery is the only writer of refinery_worktrees.
import fs from 'node:fs';
import path from 'node:path';
import type { Gate } from '../../shared/domain';
import { setupWatchOf, watchMatcher } from '../../shared/setup-watch';
import { git } from '../git/git-cli';
import { checkoutDetached } from '../git/worktrees';
import type { Store } from '../store/store';
import type { RigRow } from '../store/views';

/** An install can be slow (a cold cache, a big monorepo), but never endless. */
export const SETUP_TIMEOUT_S = 30 * 60;

export interface SetupRun {
  ok: boolean;
  exitCode: number | null;
  tail: string;
}

/** Whether the setup ran at this candidate, why, and how it ended. */
export interface Preparation {
  setup: null | { reason: string; run: SetupRun };
}

interface PreparedRow {
  rig_id: string;
  prepared_sha: string;
  setup_command: string;
  watched: string;
}

/** Path → blob id of each watched file. */
type Watched = Record<string, string>;

/**
 * Checks the worktree out at the candidate and runs the setup when it is needed, through
 * `runSetup` (the refinery runs it as an attachable session, like a gate). A failed setup
 * leaves no record, so the next candidate runs it again.
 */
export async function prepareRefineryWorktree(
  store: Store,
  rig: RigRow,
  worktree: string,
  candidate: string,
  runSetup: (setup: Gate) => Promise<SetupRun>,
): Promise<Preparation> {
  const created = !fs.existsSync(path.join(worktree, '.git'));
  await checkoutDetached(rig.path, worktree, candidate);
  if (!rig.setup_command) return { setup: null };

  const watched = await watchedFiles(worktree, candidate, setupWatchOf(rig));
  const prior = created ? undefined : store.get<PreparedRow>('SELECT * FROM refinery_worktrees WHERE rig_id = ?', rig.id);
  const reason = setupReason(prior, rig.setup_command, watched);
  if (reason === null) {
    store.transaction(() => store.run('UPDATE refinery_worktrees SET prepared_sha = ? WHERE rig_id = ?', candidate, rig.id));
    return { setup: null };
  }

  // Cleared first: a setup cut off halfway (a kill, a restart) leaves an unprepared worktree.
  store.transaction(() => store.run('DELETE FROM refinery_worktrees WHERE rig_id = ?', rig.id));
  const run = await runSetup({ name: 'setup', command: rig.setup_command, timeout_s: SETUP_TIMEOUT_S });
  if (!run.ok) return { setup: { reason, run } };
  store.transaction(() =>
    store.run(
      `INSERT OR REPLACE INTO refinery_worktrees (rig_id, prepared_sha, setup_command, watched, prepared_at) VALUES (?, ?, ?, ?, ?)`,
      rig.id, candidate, rig.setup_command, JSON.stringify(watched), store.now(),
    ),
  );
  return { setup: { reason, run } };
}

/**
 * Why the setup must run at this candidate, or null when the worktree is as the last setup
 * left it: same command, and every watched file with the same blob id (no added or removed ones).
 */
export function setupReason(prior: Pick<PreparedRow, 'setup_command' | 'watched'> | undefined, command: string, watched: Watched): string | null {
  if (!prior) return 'first setup of the refinery worktree';
  if (prior.setup_command !== command) return 'the setup command changed';
  const before = JSON.parse(prior.watched) as Watched;
  const changed = [...new Set([...Object.keys(before), ...Object.keys(watched)])].filter((f) => before[f] !== watched[f]).sort();
  if (changed.length === 0) return null;
  const shown = changed.slice(0, 5).join(', ') + (changed.length > 5 ? ` and ${changed.length - 5} more` : '');
  return `${shown} changed`;
}

/** The watched files at a commit with their blob ids, read from its tree (no checkout needed). */
async function watchedFiles(worktree: string, commit: string, globs: string[]): Promise<Watched> {
  if (globs.length === 0) return {};
  const matches = watchMatcher(globs);
  const out = await git(worktree, ['ls-tree', '-r', '-z', '--full-tree', commit]);
  const files: Watched = {};
  for (const entry of out.split('\0')) {
    // `<mode> <type> <oid>\t<path>`
    const tab = entry.indexOf('\t');
    if (tab < 0) continue;
    const [, type, oid] = entry.slice(0, tab).split(' ');
    const file = entry.slice(tab + 1);
    if (type === 'blob' && matches(file)) files[file] = oid;
  }
  return files;
}
