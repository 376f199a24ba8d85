// The refinery: merges one MR of a rig at a time. It builds the merge commit in-process,
// runs the rig's gates in its own worktree, and moves the target branch only by
// compare-and-swap. It reports every outcome as an event; besides events it writes only
// its intent before moving a branch (intents.ts), so a restart can finish what a kill cut.
import path from 'node:path';
import type { Gate } from '../../shared/domain';
import { deleteBranchIfMerged } from '../git/branches';
import { git, gitOk } from '../git/git-cli';
import { buildMergeCandidate, currentBranch, resolveRef } from '../git/merge';
import { faultPoint } from '../faults/fault-points';
import { isDirty } from '../git/worktrees';
import { readConfig } from '../reconciler/config';
import { inheritedEnv } from '../runtimes/runtimes';
import { TownClosingError, type SessionHost } from '../sessions/session-host';
import { refineryAgentId } from '../store/rigs';
import { recordSessionEnded, recordSessionStarted } from '../store/sessions';
import type { EventInput, Store } from '../store/store';
import type { EventPayloadInput } from '../../shared/events';
import { beadView, getBead, getMergeRequest, getRig, type RigRow } from '../store/views';
import { filesLeftBehind, followCheckout, repairHalfDoneFollow, type LeftBehind } from './checkout-follow';
import { clearIntent, recordIntent, type RefineryIntent } from './intents';
import { prepareRefineryWorktree } from './refinery-worktree';
import { ensureConvoyBranch, isConvoyBranch } from './convoy-branch';
import { pushedNotLanded, pushWithRetry } from './remote-push';
import { refineryMoveAdoption } from './target-watch';

export interface RefineryDeps {
  store: Store;
  host: SessionHost;
  refineryRoot: string;
  logs: string;
  /** Live gate sessions by agent id, so `town attach <rig>/refinery` finds them. */
  gateSessions: Map<string, string>;
}

const MAX_CAS_RETRIES = 3;

type RefineryReport = 'refinery.candidate' | 'refinery.testing' | 'refinery.setup' | 'refinery.merged' | 'refinery.failed' | 'refinery.blocked' | 'refinery.pushed' | 'refinery.push_failed' | 'refinery.flaky';

export async function runMergeRequest(deps: RefineryDeps, mrId: string): Promise<void> {
  const { store } = deps;
  const mr = getMergeRequest(store, mrId);
  if (!mr) return;
  const rig = getRig(store, mr.rig_id)!;
  const report = <T extends RefineryReport>(type: T, payload: Omit<EventPayloadInput<T>, 'mr'>) =>
    store.report({ type, bead: mr.source_bead_id, agent: refineryAgentId(rig.id), payload: { mr: mrId, ...payload } } as EventInput);

  let moved = false;
  // A candidate already on the remote: a rebuild merges it (not the branch again), so the
  // next push is a fast-forward of what the remote holds. Also one an earlier run of this
  // MR pushed without moving the local target (its compare-and-swap lost, or a kill came):
  // this run brings the local target to it.
  let pushed: string | null = await pushedNotLanded(store, rig, mr);
  // Once the remote holds the merge, any failure leaves the two apart: it is reported as
  // such (target-moved, both commits named), never as the MR's own failure.
  const fail = async (type: string, tail: string, extra: { exit_code?: number | null; files?: string[] } = {}) => {
    if (!pushed) return void report('refinery.failed', { failure_type: type, tail, ...extra });
    const local = (await resolveRef({ dir: rig.path }, `refs/heads/${mr.target}`)) ?? '(missing)';
    report('refinery.failed', {
      failure_type: 'target-moved',
      tail:
        `${rig.remote}/${mr.target} holds the merge ${pushed.slice(0, 10)}, but the local ${mr.target} moved to ${local.slice(0, 10)} ` +
        `without it and could not be brought along (${type}). Retry ${mrId} to merge ${pushed.slice(0, 10)} onto the local tip and push again, ` +
        `or reconcile by hand (git merge ${pushed.slice(0, 10)} on ${mr.target}).\n${tail}`,
    });
  };
  try {
    if (isConvoyBranch(mr.target)) await ensureConvoyBranch(rig, mr.target);
    for (let attempt = 0; attempt < MAX_CAS_RETRIES; attempt++) {
      const checkout = await checkoutState(deps, rig, mr.target);
      if (checkout.state === 'dirty') {
        report('refinery.blocked', { reason: checkout.reason, retry_after_ms: readConfig(store)['refinery.blocked_retry'] });
        return;
      }
      const source = getBead(store, mr.source_bead_id);
      const title = source ? beadView(store, source).title : mr.source_bead_id;
      // The commit the agent submitted at `town done`, never whatever the branch holds later.
      const head = pushed ?? mr.head_sha ?? `refs/heads/${mr.branch}`;
      await deps.host.whileFrozen(); // an e-stop holds the refinery's own git steps too
      if (!(await gitOk(rig.path, ['rev-parse', '-q', '--verify', `${head}^{commit}`]))) {
        await fail('branch-missing', `${mr.branch} ${mr.head_sha ? `(submitted as ${mr.head_sha.slice(0, 10)}) ` : ''}no longer exists in ${rig.path}; nothing to merge`);
        return;
      }
      const candidate = await buildMergeCandidate({ dir: rig.path }, mr.target, head, `Merge ${mr.source_bead_id}: ${title}\n\nBranch ${mr.branch} via ${mrId}.`);
      if (candidate.kind === 'already-merged') {
        // A pushed merge the local target took in from outside (e.g. a pull) has landed.
        if (!pushed && (await isTargetsOwnCommit(rig.path, mr.target, head))) {
          report('refinery.failed', { failure_type: 'no-commits', tail: `${mr.branch} has no commits of its own (${head.slice(0, 10)} is a commit of ${mr.target} itself); nothing to merge` });
          return;
        }
        report('refinery.merged', { merge_sha: pushed ?? candidate.base, already: true });
        return;
      }
      if (candidate.kind === 'conflict') {
        await fail('conflict', `merge conflict in:\n${candidate.files.join('\n')}`, { files: candidate.files });
        return;
      }
      report('refinery.candidate', {
        candidate_sha: candidate.oid,
        base_sha: candidate.base,
        // A rebuild is explained: the gates run again on the new tip.
        ...(attempt > 0 ? { reason: `${mr.target} moved while the gates ran; rebuilt on ${candidate.base.slice(0, 10)} and testing again` } : {}),
      });

      const worktree = path.join(deps.refineryRoot, rig.id);
      if (attempt === 0) report('refinery.testing', {});
      const { setup } = await prepareRefineryWorktree(store, rig, worktree, candidate.oid, (s) => runGate(deps, rig, s, worktree, mrId));
      if (setup) report('refinery.setup', { reason: setup.reason, ok: setup.run.ok });
      if (setup && !setup.run.ok) {
        await fail('setup', setup.run.tail, { exit_code: setup.run.exitCode });
        return;
      }
      for (const gate of JSON.parse(rig.gates) as Gate[]) {
        await deps.host.whileFrozen();
        let result = await runGate(deps, rig, gate, worktree, mrId);
        await deps.host.whileFrozen(); // a frozen gate ends only when abandoned: not its failure
        if (!result.ok && !result.timedOut && result.exitCode !== null) {
          // One immediate rerun: a gate that passes then is flaky, recorded, not a failure.
          const rerun = await runGate(deps, rig, gate, worktree, mrId);
          await deps.host.whileFrozen();
          if (rerun.ok) report('refinery.flaky', { gate: gate.name, tail: result.tail.slice(-2000) });
          result = rerun;
        }
        if (!result.ok) {
          await fail(`gate:${gate.name}`, result.tail, { exit_code: result.exitCode });
          return;
        }
      }

      // Compare-and-swap: move the target only if it still points at the base we merged
      // onto. The intent is on disk first, so a kill anywhere after this is finished on restart.
      const backupRef = `refs/overseer/backup/${mr.target}/${mrId}`;
      await deps.host.whileFrozen();
      await git(rig.path, ['update-ref', backupRef, candidate.base]);
      const follow = checkout.state === 'clean';
      store.transaction(() =>
        recordIntent(store, { rig_id: rig.id, mr_id: mrId, target: mr.target, from_sha: candidate.base, to_sha: candidate.oid, follow_checkout: follow ? 1 : 0, backup_ref: backupRef }),
      );
      // With a remote, the candidate is pushed first: a push that never succeeds leaves the
      // local target where it was. The intent is already on disk, so recovery can tell.
      if (rig.remote) {
        // Moved during the gates: rebuild first rather than publish a candidate the CAS will refuse.
        if ((await resolveRef({ dir: rig.path }, `refs/heads/${mr.target}`)) !== candidate.base) {
          store.transaction(() => clearIntent(store, rig.id, mrId));
          continue;
        }
        const config = readConfig(store);
        const push = await pushWithRetry({ repo: rig.path, remote: rig.remote, target: mr.target, sha: candidate.oid, retries: config['mq.push_retries'], backoff: config['mq.push_backoff'], stopping: () => deps.host.isClosing, stopped: deps.host.closed });
        const where = { remote: rig.remote, target: mr.target, sha: candidate.oid, attempts: push.attempts };
        if (!push.ok) {
          store.transaction(() => {
            clearIntent(store, rig.id, mrId);
            // An earlier push of this run landed: say so; the retry starts from it (pushedNotLanded).
            const earlier = pushed ? `${rig.remote}/${mr.target} already holds this MR's merge ${pushed.slice(0, 10)}; the retry brings ${mr.target} to it.\n` : '';
            report('refinery.push_failed', { ...where, tail: earlier + push.tail });
          });
          return;
        }
        pushed = candidate.oid;
        report('refinery.pushed', where);
      }
      faultPoint('refinery.before-ref-move');
      moved = await gitOk(rig.path, ['update-ref', '-m', `overseer: merge ${mr.source_bead_id}`, `refs/heads/${mr.target}`, candidate.oid, candidate.base]);
      if (!moved) {
        store.transaction(() => clearIntent(store, rig.id, mrId));
        continue; // the target moved under us: rebuild on the new tip
      }
      faultPoint('refinery.after-ref-move');
      await finishMerge(store, rig, { mr_id: mrId, target: mr.target, from_sha: candidate.base, to_sha: candidate.oid, follow_checkout: follow ? 1 : 0, backup_ref: backupRef });
      return;
    }
    await fail('target-moved', `${mr.target} kept moving during ${MAX_CAS_RETRIES} merge attempts`);
  } catch (err) {
    // Once the target moved, the MR is merged whatever fails next (finishMerge reports it).
    if (!moved && !(err instanceof TownClosingError)) await fail('error', (err as Error).message).catch(() => {});
  }
}

/**
 * After the target moved: bring the user's checkout along (when it was clean on the target),
 * report the merge, clear the intent and prune merged branches. Also how startup recovery
 * finishes a merge whose engine was killed after the move. A checkout that cannot follow
 * is reported on its own; it never makes the merged MR fail.
 */
export async function finishMerge(store: Store, rig: RigRow, i: Pick<RefineryIntent, 'mr_id' | 'target' | 'from_sha' | 'to_sha' | 'follow_checkout' | 'backup_ref'>) {
  const mr = getMergeRequest(store, i.mr_id);
  const bead = mr?.source_bead_id ?? null;
  const agent = refineryAgentId(rig.id);
  let checkoutProblem: string | null = null;
  try {
    if (i.follow_checkout && (await currentBranch({ dir: rig.path })) === i.target) {
      checkoutProblem = await followOrExplain(rig, i.from_sha, i.to_sha);
    }
  } catch (err) {
    checkoutProblem = `${rig.path} could not follow ${i.target} to ${i.to_sha.slice(0, 10)}: ${(err as Error).message}`;
  }
  faultPoint('refinery.after-checkout-follow');
  // Invariant 7: the refinery's own move becomes the known tip, in the same transaction.
  const adoptTip = await refineryMoveAdoption(store, rig.path, rig.id, i.target, i.from_sha, i.to_sha);
  store.transaction(() => {
    adoptTip();
    store.report({ type: 'refinery.merged', bead, agent, payload: { mr: i.mr_id, merge_sha: i.to_sha, backup_ref: i.backup_ref } });
    if (checkoutProblem) store.report({ type: 'refinery.checkout_behind', bead, agent, payload: { mr: i.mr_id, reason: checkoutProblem } });
    clearIntent(store, rig.id, i.mr_id);
  });
  // The merged branch goes now rather than after mq.keep_refs_for: every commit of it is on
  // the target, the MR keeps its head_sha and the backup ref the target's old tip, so
  // nothing to inspect is lost, and a short branch list keeps starts quick. One a polecat's
  // worktree still holds stays, and the hourly ref sweep (ref-collector.ts) takes it once
  // it has been merged that long. Backup refs go by age in the same sweep.
  if (mr) await deleteBranchIfMerged(rig.path, mr.branch, i.target).catch(() => false);
}

/**
 * Brings the checkout from `from` to `to` as a fast-forward would (the user's changes to
 * other files carried along). When git refuses, says which files still hold the old
 * versions and how to bring them up, never advising a commit that would revert the merge.
 */
async function followOrExplain(rig: RigRow, from: string, to: string): Promise<string | null> {
  try {
    await followCheckout(rig.path, from, to);
    return null;
  } catch (err) {
    const left = await filesLeftBehind(rig.path, from, to);
    return left.length > 0 ? leftBehindMessage(rig, left, to) : `${rig.path} could not follow to ${to.slice(0, 10)}: ${(err as Error).message}`;
  }
}

/** Never advise committing these: they are the old versions, and committing them reverts the merge. */
function leftBehindMessage(rig: RigRow, files: LeftBehind[], to: string): string {
  const list = (xs: LeftBehind[]) => xs.slice(0, 8).map((f) => f.file).join(' ') + (xs.length > 8 ? ` (and ${xs.length - 8} more)` : '');
  const stale = files.filter((f) => !f.edited);
  const edited = files.filter((f) => f.edited);
  const parts = [
    `${rig.path}: ${files.length} file(s) still hold their versions from before the refinery's merge ${to.slice(0, 10)}, ` +
      `so they look changed; do not commit them as they are, that would revert merged work.`,
  ];
  if (stale.length) parts.push(`Unchanged by you (${list(stale)}): restore them with \`git -C ${rig.path} checkout HEAD -- ${list(stale)}\`.`);
  if (edited.length) {
    parts.push(
      `Also holding something of yours (${list(edited)}): put your version aside, run \`git -C ${rig.path} checkout HEAD -- FILE\` ` +
        `for each, then bring your edits back onto the merged version.`,
    );
  }
  return parts.join(' ');
}

type CheckoutState = { state: 'elsewhere' | 'clean' } | { state: 'dirty'; reason: string };

/**
 * Is the target checked out in the user's own working tree, and is that tree clean? A
 * tree left half-updated by the refinery itself is finished here, not blamed on the user.
 */
async function checkoutState(deps: RefineryDeps, rig: RigRow, target: string): Promise<CheckoutState> {
  if ((await currentBranch({ dir: rig.path })) !== target) return { state: 'elsewhere' };
  if (!(await isDirty(rig.path, false))) return { state: 'clean' };
  const repair = await repairHalfDoneFollow(rig.path);
  if (repair.kind === 'finished') {
    deps.store.report({
      type: 'refinery.checkout_repaired',
      agent: refineryAgentId(rig.id),
      payload: { rig: rig.id, from: repair.from, to: repair.to, reason: `${rig.path} was left at ${repair.from.slice(0, 10)} by an interrupted update; brought to ${repair.to.slice(0, 10)}` },
    });
    if (!(await isDirty(rig.path, false))) return { state: 'clean' };
  }
  if (repair.kind === 'left-behind') return { state: 'dirty', reason: leftBehindMessage(rig, repair.files, repair.to) };
  const files = (await git(rig.path, ['status', '--porcelain', '--untracked-files=no'])).split('\n').filter(Boolean).map((l) => l.slice(3));
  const shown = files.slice(0, 8).join(', ') + (files.length > 8 ? `, and ${files.length - 8} more` : '');
  return {
    state: 'dirty',
    reason: `${rig.path} has uncommitted changes on ${target} (${shown}); the refinery never touches them. Commit or stash your changes and the merge resumes.`,
  };
}

/**
 * The submitted commit lies on the target's first-parent line: the branch never held work
 * of its own. Work the refinery merged is a merge commit's second parent, never on that line.
 */
async function isTargetsOwnCommit(repo: string, target: string, head: string): Promise<boolean> {
  const sha = (await git(repo, ['rev-parse', `${head}^{commit}`])).trim();
  const line = await git(repo, ['rev-list', '--first-parent', `refs/heads/${target}`]);
  return line.split('\n').includes(sha);
}

interface GateResult {
  ok: boolean;
  /** Killed at its timeout: not rerun (a slow gate is not flaky). */
  timedOut?: boolean;
  exitCode: number | null;
  tail: string;
}

function runGate(deps: RefineryDeps, rig: RigRow, gate: Gate, cwd: string, mrId: string): Promise<GateResult> {
  const agentId = refineryAgentId(rig.id);
  const sessionId = `gate-${mrId}-${gate.name}-${Date.now().toString(36)}`;
  return new Promise((resolve, reject) => {
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const off = deps.host.onExit((info) => {
      if (info.sessionId !== sessionId) return;
      off();
      clearTimeout(timer);
      deps.gateSessions.delete(agentId);
      deps.store.transaction(() => recordSessionEnded(deps.store, sessionId, { endedAt: deps.store.now(), exitCode: info.exitCode, signal: info.signal, bytesOut: info.bytesOut }));
      // Stopped because the engine stops: not the gate's failure; the restart tries the MR again.
      if (deps.host.isClosing) {
        reject(new TownClosingError());
        return;
      }
      resolve({
        ok: !timedOut && info.exitCode === 0 && info.signal === null, // killed by a signal is not passed
        timedOut,
        exitCode: info.exitCode,
        tail: timedOut ? `${gate.name} timed out after ${gate.timeout_s}s\n${info.tail}` : info.tail,
      });
    });
    try {
      const logPath = path.join(deps.logs, `${sessionId}.log`);
      const info = deps.host.spawn({
        sessionId,
        agentId,
        file: '/bin/sh',
        args: ['-c', gate.command],
        cwd,
        env: { ...inheritedEnv(), TOWN_GATE: gate.name, TOWN_MR: mrId, CI: '1' },
        logPath,
      });
      // Recorded like an agent's session, so startup recovery finds and kills a leftover gate.
      deps.store.transaction(() =>
        recordSessionStarted(deps.store, {
          id: sessionId, agent: agentId, bead: mrId, launch: null, kind: 'gate', command: gate.command, cwd,
          pid: info.pid, pgid: info.pgid, processStart: info.processStart, startedAt: deps.store.now(), logPath,
        }),
      );
    } catch (err) {
      off();
      // The engine is stopping: not the gate's failure (the restart runs it).
      if (err instanceof TownClosingError) {
        reject(err);
        return;
      }
      resolve({ ok: false, exitCode: null, tail: `could not start gate ${gate.name}: ${(err as Error).message}` });
      return;
    }
    deps.gateSessions.set(agentId, sessionId);
    // A gate stopped by an e-stop is not slow: its timeout does not count the frozen time.
    const started = Date.now();
    const frozenAtStart = deps.host.frozenMs();
    const expire = () => {
      const due = started + gate.timeout_s * 1000 + (deps.host.frozenMs() - frozenAtStart);
      if (deps.host.isFrozen || Date.now() < due) {
        timer = setTimeout(expire, deps.host.isFrozen ? 1000 : due - Date.now());
        return;
      }
      timedOut = true;
      // A group that survives the kill is reported by the host (onKillFailed); not an engine crash.
      deps.host.stop(sessionId, 'timeout').catch(() => {});
    };
    timer = setTimeout(expire, gate.timeout_s * 1000);
  });
}
