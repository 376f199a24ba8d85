// The git side of integration-mode convoys: `convoy/<id>` starts at the rig's default
// branch when the convoy starts (or, if it is missing then, when its first member merges).
import { branchExists } from '../git/branches';
import { gitOk } from '../git/git-cli';
import { withRefWrites } from '../git/ref-writes';
import { CONVOY_BRANCH_PREFIX, mergeTargetOf } from '../store/convoy-branches';
import type { Store } from '../store/store';
import type { RigRow } from '../store/views';

/**
 * Creates `branch` at the default branch's tip unless it exists (never moves an existing one).
 * In turn with the rig's other ref writes, so a start listing branches never meets it half made.
 */
export function ensureConvoyBranch(rig: Pick<RigRow, 'path' | 'default_branch'>, branch: string): Promise<boolean> {
  // An empty old value makes update-ref refuse a branch that already exists.
  return withRefWrites(rig.path, () =>
    gitOk(rig.path, ['update-ref', '-m', 'overseer: integration branch', `refs/heads/${branch}`, `refs/heads/${rig.default_branch}`, '']),
  );
}

export const isConvoyBranch = (target: string) => target.startsWith(CONVOY_BRANCH_PREFIX);

/**
 * Where a bead's polecat branch starts: the branch its work merges into. In an integration
 * convoy that is convoy/<id>, so a member that waits on another (`--after`) builds on the
 * work merged before it, which the default branch does not hold yet.
 */
export async function workBaseOf(store: Store, beadId: string, rig: Pick<RigRow, 'path' | 'default_branch'>): Promise<string> {
  const target = mergeTargetOf(store, beadId, rig);
  if (target === rig.default_branch) return target;
  await ensureConvoyBranch(rig, target);
  return (await branchExists(rig.path, target)) ? target : rig.default_branch;
}
