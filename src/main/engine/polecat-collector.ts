// Side effects of collection: inspect an idle polecat's worktree and remove it only when
// clean; delete pruned log files. Outcomes are reported as events, never thrown.
import fs from 'node:fs/promises';
import { checkWorktreeForRemoval, removeCleanWorktree } from '../git/worktree-gc';
import type { Store } from '../store/store';
import { getAgent, getRig } from '../store/views';

export async function collectPolecat(store: Store, agentId: string): Promise<void> {
  const agent = getAgent(store, agentId);
  const rig = agent?.rig_id ? getRig(store, agent.rig_id) : undefined;
  const report = (payload: { outcome: 'removed' | 'missing' | 'dirty' | 'unmerged' | 'error'; files?: string[]; commits?: { sha: string; subject: string }[]; error?: string }) =>
    store.report({ type: 'polecat.gc_checked', agent: agentId, payload: { worktree: agent?.worktree ?? null, ...payload } });
  if (!agent || !rig || !agent.worktree) return void report({ outcome: 'missing' });
  try {
    const check = await checkWorktreeForRemoval(agent.worktree, rig.default_branch);
    if (check.state === 'missing') return void report({ outcome: 'missing' });
    if (check.state === 'dirty') return void report({ outcome: 'dirty', files: check.files });
    if (check.state === 'unmerged') return void report({ outcome: 'unmerged', commits: check.commits });
    await removeCleanWorktree(rig.path, agent.worktree, check.branch, rig.default_branch);
    report({ outcome: 'removed' });
  } catch (err) {
    report({ outcome: 'error', error: (err as Error).message });
  }
}

/** Log files of pruned sessions; one that is already gone is fine. */
export async function deleteFiles(paths: string[], log: (line: string) => void): Promise<void> {
  for (const p of paths) {
    try {
      await fs.rm(p, { force: true });
    } catch (err) {
      log(`could not delete ${p}: ${(err as Error).message}`);
    }
  }
}
