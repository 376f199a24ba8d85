// The refinery: merges one MR of a rig at a time. It builds the merge commit in-process,
// runs the rig's gates in its own worktree, and moves the target branch only by
// compare-and-swap. It reports every outcome as an event; it writes nothing else.
import path from 'node:path';
import type { Gate } from '../../shared/domain';
import { git, gitOk } from '../git/git-cli';
import { buildMergeCandidate, currentBranch } from '../git/merge';
import { checkoutDetached, isDirty } from '../git/worktrees';
import { readConfig } from '../reconciler/config';
import { inheritedEnv } from '../runtimes/runtimes';
import type { SessionHost } from '../sessions/session-host';
import type { Store } from '../store/store';
import { beadView, getBead, getMergeRequest, getRig, type RigRow } from '../store/views';

export interface RefineryDeps {
  store: Store;
  host: SessionHost;
  refineryRoot: string;
  logs: string;
  /** Live gate sessions by agent id, so `town attach <rig>/refinery` finds them. */
  gateSessions: Map<string, string>;
}

const MAX_CAS_RETRIES = 3;

export const refineryAgentId = (rig: string) => `${rig}/refinery`;

export async function runMergeRequest(deps: RefineryDeps, mrId: string): Promise<void> {
  const { store } = deps;
  const mr = getMergeRequest(store, mrId);
  if (!mr) return;
  const rig = getRig(store, mr.rig_id)!;
  const report = (type: string, payload: Record<string, unknown>) =>
    store.report({ type, bead: mr.source_bead_id, agent: refineryAgentId(rig.id), payload: { mr: mrId, ...payload } });

  try {
    for (let attempt = 0; attempt < MAX_CAS_RETRIES; attempt++) {
      const checkout = await checkoutState(rig, mr.target);
      if (checkout === 'dirty') {
        report('refinery.blocked', {
          reason: `${rig.path} has uncommitted changes on ${mr.target}; commit or stash them and the merge resumes`,
          retry_after_ms: readConfig(store).blocked_retry_s * 1000,
        });
        return;
      }
      const source = getBead(store, mr.source_bead_id);
      const title = source ? beadView(store, source).title : mr.source_bead_id;
      const candidate = await buildMergeCandidate({ dir: rig.path }, mr.target, mr.branch, `Merge ${mr.source_bead_id}: ${title}\n\nBranch ${mr.branch} via ${mrId}.`);
      if (candidate.kind === 'already-merged') {
        report('refinery.merged', { merge_sha: candidate.base, already: true });
        return;
      }
      if (candidate.kind === 'conflict') {
        report('refinery.failed', { failure_type: 'conflict', tail: `merge conflict in:\n${candidate.files.join('\n')}` });
        return;
      }
      if (attempt === 0) report('refinery.candidate', { candidate_sha: candidate.oid, base_sha: candidate.base });

      const worktree = path.join(deps.refineryRoot, rig.id);
      await checkoutDetached(rig.path, worktree, candidate.oid);
      if (attempt === 0) report('refinery.testing', {});
      for (const gate of JSON.parse(rig.gates) as Gate[]) {
        const result = await runGate(deps, rig, gate, worktree, mrId);
        if (!result.ok) {
          report('refinery.failed', { failure_type: `gate:${gate.name}`, tail: result.tail, exit_code: result.exitCode });
          return;
        }
      }

      // Compare-and-swap: move the target only if it still points at the base we merged onto.
      const backupRef = `refs/overseer/backup/${mr.target}/${mrId}`;
      await git(rig.path, ['update-ref', backupRef, candidate.base]);
      const moved = await gitOk(rig.path, ['update-ref', '-m', `overseer: merge ${mr.source_bead_id}`, `refs/heads/${mr.target}`, candidate.oid, candidate.base]);
      if (!moved) continue; // the target moved under us: rebuild on the new tip
      if (checkout === 'clean') await bringCheckoutAlong(rig, candidate.base, candidate.oid);
      report('refinery.merged', { merge_sha: candidate.oid, backup_ref: backupRef });
      return;
    }
    report('refinery.failed', { failure_type: 'target-moved', tail: `${mr.target} kept moving during ${MAX_CAS_RETRIES} merge attempts` });
  } catch (err) {
    report('refinery.failed', { failure_type: 'error', tail: (err as Error).message });
  }
}

/** Is the target checked out in the user's own working tree, and is that tree clean? */
async function checkoutState(rig: RigRow, target: string): Promise<'elsewhere' | 'clean' | 'dirty'> {
  if ((await currentBranch({ dir: rig.path })) !== target) return 'elsewhere';
  return (await isDirty(rig.path, false)) ? 'dirty' : 'clean';
}

/** Moves the user's index and files from `from` to `to`, as a fast-forward checkout would. */
async function bringCheckoutAlong(rig: RigRow, from: string, to: string) {
  await git(rig.path, ['read-tree', '-m', '-u', from, to]);
}

interface GateResult {
  ok: boolean;
  exitCode: number | null;
  tail: string;
}

function runGate(deps: RefineryDeps, rig: RigRow, gate: Gate, cwd: string, mrId: string): Promise<GateResult> {
  const agentId = refineryAgentId(rig.id);
  const sessionId = `gate-${mrId}-${gate.name}-${Date.now().toString(36)}`;
  return new Promise((resolve) => {
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const off = deps.host.onExit((info) => {
      if (info.sessionId !== sessionId) return;
      off();
      clearTimeout(timer);
      deps.gateSessions.delete(agentId);
      resolve({
        ok: !timedOut && info.exitCode === 0,
        exitCode: info.exitCode,
        tail: timedOut ? `${gate.name} timed out after ${gate.timeout_s}s\n${info.tail}` : info.tail,
      });
    });
    try {
      deps.host.spawn({
        sessionId,
        agentId,
        file: '/bin/sh',
        args: ['-c', gate.command],
        cwd,
        env: { ...inheritedEnv(), TOWN_GATE: gate.name, TOWN_MR: mrId, CI: '1' },
        logPath: path.join(deps.logs, `${sessionId}.log`),
      });
    } catch (err) {
      off();
      resolve({ ok: false, exitCode: null, tail: `could not start gate ${gate.name}: ${(err as Error).message}` });
      return;
    }
    deps.gateSessions.set(agentId, sessionId);
    timer = setTimeout(() => {
      timedOut = true;
      void deps.host.stop(sessionId, 'timeout');
    }, gate.timeout_s * 1000);
  });
}
