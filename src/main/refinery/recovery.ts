// Startup: merges a killed engine left between "target moved" and "merge reported".
import { gitOk } from '../git/git-cli';
import { isAncestor, resolveRef } from '../git/merge';
import type { Store } from '../store/store';
import { getRig } from '../store/views';
import { clearIntent, pendingIntents } from './intents';
import { finishMerge } from './refinery';
import { remoteTip } from './remote-push';

/**
 * For each intent left on disk: if the target holds the intended merge, the move happened,
 * so the merge is finished (checkout brought along, reported merged); otherwise the move
 * never happened and the intent is dropped (its MR is requeued like any cut-off claim) —
 * unless the rig pushes and the remote already holds the intended merge: the kill came
 * between push and move, so the move is made now (same compare-and-swap) and finished.
 * Returns the MRs finished here.
 */
export async function finishInterruptedMerges(store: Store, log: (line: string) => void): Promise<Set<string>> {
  const finished = new Set<string>();
  for (const intent of pendingIntents(store)) {
    const rig = getRig(store, intent.rig_id);
    const repo = rig ? { dir: rig.path } : null;
    const tip = repo ? await resolveRef(repo, `refs/heads/${intent.target}`) : null;
    let landed = repo !== null && tip !== null && tip !== intent.from_sha && (await isAncestor(repo, intent.to_sha, tip).catch(() => false));
    if (rig?.remote && tip === intent.from_sha && (await remoteTip(rig.path, rig.remote, intent.target)) === intent.to_sha) {
      landed = await gitOk(rig.path, ['update-ref', '-m', `overseer: merge ${intent.mr_id} (pushed before a restart)`, `refs/heads/${intent.target}`, intent.to_sha, intent.from_sha]);
    }
    if (!rig || !landed) {
      store.transaction(() => clearIntent(store, intent.rig_id, intent.mr_id));
      continue;
    }
    log(`finishing merge ${intent.mr_id}: ${intent.target} had moved to ${intent.to_sha.slice(0, 10)} when the engine stopped`);
    await finishMerge(store, rig, intent);
    finished.add(intent.mr_id);
  }
  return finished;
}
