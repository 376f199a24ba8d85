// The git side of integration-mode convoys: `convoy/<id>` starts at the rig's default
// branch when the convoy starts (or, if it is missing then, when its first member merges).
import { gitOk } from '../git/git-cli';
import { CONVOY_BRANCH_PREFIX } from '../store/convoy-branches';
import type { RigRow } from '../store/views';

/** Creates `branch` at the default branch's tip unless it exists (never moves an existing one). */
export function ensureConvoyBranch(rig: Pick<RigRow, 'path' | 'default_branch'>, branch: string): Promise<boolean> {
  // An empty old value makes update-ref refuse a branch that already exists.
  return gitOk(rig.path, ['update-ref', '-m', 'overseer: integration branch', `refs/heads/${branch}`, `refs/heads/${rig.default_branch}`, '']);
}

export const isConvoyBranch = (target: string) => target.startsWith(CONVOY_BRANCH_PREFIX);
