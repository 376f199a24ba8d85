// The periodic ref sweep of one rig (rule sweepOldRefs, issue 10's GC): merged polecat
// branches, landed convoys' branches and refinery backup refs, once the store says they have
// been done with for longer than `mq.keep_refs_for`. Ages come from the store (when the MR
// merged or failed, when the bead ended, when the convoy landed), never from commit dates: a
// commit made a month ago can have merged an hour ago. git then checks each branch again at
// deletion time (ref-sweep.ts): a branch with a commit its targets lack is never deleted.
import { CONVOY_BRANCH_PREFIX } from '../store/convoy-branches';
import type { Store } from '../store/store';
import { getRig, type RigRow } from '../store/views';
import { deleteRefs, pruneMergedBranches, refsUnder, type BranchToPrune } from '../git/ref-sweep';
import { TERMINAL_BEAD_STATUSES } from '../../shared/domain';

/** Refs of each kind deleted per sweep at most: a large backlog is worked off over several sweeps. */
export const SWEEP_LIMIT = 200;

const HEADS = 'refs/heads/';
const BACKUPS = 'refs/overseer/backup/';

export interface RefSweepResult {
  branches: string[];
  backups: string[];
}

/** Sweeps rig `rigId` for refs done with before `before`; reports `refs.pruned` when it deleted any. */
export async function sweepRefs(store: Store, rigId: string, before: number): Promise<RefSweepResult> {
  const rig = getRig(store, rigId);
  if (!rig) return { branches: [], backups: [] };
  // Listing and asking the store is cheap; the limit applies to what is then checked in git.
  const branches = async (prefix: string) => (await refsUnder(rig.path, HEADS + prefix)).map((r) => r.slice(HEADS.length));
  const candidates = [
    ...(await branches('polecat/')).flatMap((b) => polecatBranchDone(store, rig, b, before) ?? []).slice(0, SWEEP_LIMIT),
    ...(await branches(CONVOY_BRANCH_PREFIX)).flatMap((b) => convoyBranchDone(store, rig, b, before) ?? []).slice(0, SWEEP_LIMIT),
  ];
  const oldBackups = (await refsUnder(rig.path, BACKUPS)).filter((ref) => backupDone(store, rig, ref, before)).slice(0, SWEEP_LIMIT);
  const deletedBranches = await pruneMergedBranches(rig.path, candidates);
  const deletedBackups = await deleteRefs(rig.path, oldBackups);
  if (deletedBranches.length + deletedBackups.length > 0) {
    store.report({ type: 'refs.pruned', payload: { rig: rig.id, refs: [...deletedBranches.map((b) => HEADS + b), ...deletedBackups] } });
  }
  return { branches: deletedBranches, backups: deletedBackups };
}

const isLive = (status: string | undefined) => status !== undefined && !TERMINAL_BEAD_STATUSES.includes(status as never);

/**
 * `polecat/<name>/<bead>`: done with when every MR of it has ended (merged or failed) and
 * its bead has too, the last of those longer ago than `before`. Without an MR, the bead's
 * end counts; without either (unknown age) it is kept. Returns where its commits must be.
 */
function polecatBranchDone(store: Store, rig: RigRow, branch: string, before: number): BranchToPrune | null {
  const beadId = branch.split('/').pop() ?? '';
  const bead = store.get<{ status: string; updated_at: number }>('SELECT status, updated_at FROM beads WHERE id = ?', beadId);
  if (isLive(bead?.status)) return null;
  const mrs = store.all<{ state: string; target: string; updated_at: number }>(
    'SELECT state, target, updated_at FROM merge_requests WHERE rig_id = ? AND branch = ?', rig.id, branch,
  );
  if (mrs.some((m) => m.state !== 'merged' && m.state !== 'failed')) return null;
  const ended = [...mrs.map((m) => m.updated_at), ...(bead ? [bead.updated_at] : [])];
  if (ended.length === 0 || Math.max(...ended) >= before) return null;
  return { branch, safeIn: [...new Set([...mrs.map((m) => m.target), rig.default_branch])] };
}

/** `convoy/<id>` of a convoy that landed before `before`: its commits must be on the default branch. */
function convoyBranchDone(store: Store, rig: RigRow, branch: string, before: number): BranchToPrune | null {
  const convoy = store.get<{ status: string; landed_at: number | null }>(
    'SELECT status, landed_at FROM convoys WHERE id = ?', branch.slice(CONVOY_BRANCH_PREFIX.length),
  );
  if (convoy?.status !== 'landed' || convoy.landed_at === null || convoy.landed_at >= before) return null;
  return { branch, safeIn: [rig.default_branch] };
}

/**
 * `refs/overseer/backup/<target>/<mr>`: the target before that MR's merge. Its age is when
 * the MR ended (merged, or failed after the backup was made); one whose MR is unknown is kept.
 */
function backupDone(store: Store, rig: RigRow, ref: string, before: number): boolean {
  const mrId = ref.split('/').pop() ?? '';
  const mr = store.get<{ state: string; updated_at: number }>('SELECT state, updated_at FROM merge_requests WHERE id = ? AND rig_id = ?', mrId, rig.id);
  return !!mr && (mr.state === 'merged' || mr.state === 'failed') && mr.updated_at < before;
}
