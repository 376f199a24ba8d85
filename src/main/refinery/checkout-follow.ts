// Bringing the user's checkout along when the refinery moves the branch it has checked
// out, and recognising that update when a kill left it half done: HEAD already names the
// new commit while the index and files still hold the old one. Those stale files look like
// uncommitted changes, and committing them would revert the merge, so they are never
// treated as the user's.
import { git, gitOk } from '../git/git-cli';
import { REFINERY_EMAIL } from '../git/merge';

/** Moves the index and files from `from` to `to`, as a fast-forward checkout would. */
export async function followCheckout(repo: string, from: string, to: string): Promise<void> {
  await git(repo, ['read-tree', '-m', '-u', from, to]);
}

/** Index and tracked files match `commit` exactly (untracked files aside). */
async function checkoutMatches(repo: string, commit: string): Promise<boolean> {
  await gitOk(repo, ['update-index', '-q', '--refresh']);
  return (await gitOk(repo, ['diff-index', '--quiet', '--cached', commit, '--'])) && (await gitOk(repo, ['diff-index', '--quiet', commit, '--']));
}

/** The last merge the refinery made on HEAD, as (before, after), if HEAD is one. */
async function lastRefineryMerge(repo: string): Promise<{ from: string; to: string } | null> {
  const out = (await git(repo, ['log', '-1', '--format=%H %P%n%ce', 'HEAD'], { allowFail: true })).trim();
  const [shas, email] = out.split('\n');
  const [to, from] = (shas ?? '').split(' ');
  return email === REFINERY_EMAIL && to && from ? { from, to } : null;
}

/**
 * Files the refinery's merge `from → to` changed whose index entry or file in the checkout
 * still holds the `from` version: what an interrupted update left behind.
 */
export interface LeftBehind {
  file: string;
  /** The file on disk is neither the old version nor the merged one: the user's own. */
  edited: boolean;
}

export async function filesLeftBehind(repo: string, from: string, to: string): Promise<LeftBehind[]> {
  const changed = (await git(repo, ['diff', '--name-only', '-z', from, to])).split('\0').filter(Boolean);
  const left: LeftBehind[] = [];
  for (const file of changed) {
    const old = await blobAt(repo, from, file);
    const merged = await blobAt(repo, to, file);
    const staged = (await git(repo, ['ls-files', '-s', '-z', '--', file])).split(' ')[1] ?? null;
    const onDisk = (await git(repo, ['hash-object', '--', file], { allowFail: true })).trim() || null;
    if (staged === old || onDisk === old) left.push({ file, edited: onDisk !== old && onDisk !== merged });
  }
  return left;
}

async function blobAt(repo: string, commit: string, file: string): Promise<string | null> {
  return (await git(repo, ['rev-parse', '-q', '--verify', `${commit}:${file}`], { allowFail: true })).trim() || null;
}

export type CheckoutRepair =
  | { kind: 'finished'; from: string; to: string }
  | { kind: 'left-behind'; from: string; to: string; files: LeftBehind[] }
  | { kind: 'none' };

/**
 * For a dirty checkout of the refinery's target: finishes the refinery's own half-done
 * update when the index and files match its old commit exactly; otherwise names the files
 * that still hold the old versions (the rest are the user's changes).
 */
export async function repairHalfDoneFollow(repo: string, known?: { from: string; to: string }): Promise<CheckoutRepair> {
  const merge = known ?? (await lastRefineryMerge(repo));
  if (!merge) return { kind: 'none' };
  const head = (await git(repo, ['rev-parse', 'HEAD'])).trim();
  if (head !== merge.to) return { kind: 'none' };
  if (await checkoutMatches(repo, merge.from)) {
    await followCheckout(repo, merge.from, merge.to);
    return { kind: 'finished', ...merge };
  }
  const files = await filesLeftBehind(repo, merge.from, merge.to);
  return files.length > 0 ? { kind: 'left-behind', ...merge, files } : { kind: 'none' };
}
