// State transitions shared by event handlers, actions and commands. Each runs inside
// the caller's transaction.
import { OVERSEER, type DoneStatus, type MergeRequestView } from '../../shared/domain';
import { ApiError, conflict } from '../../shared/errors';
import { recordDone, releaseAgent, scheduleRestart } from '../store/agents';
import { raiseEscalation } from '../store/escalations';
import { addBeadLabel, assertNotTerminal, refundDispatchAttempt, requireBead, setBeadStatus, updateBeadFields } from '../store/beads';
import { sendMail } from '../store/mail';
import { mergeTargetOf } from '../store/convoy-branches';
import { queueMergeRequest, setMergeRequestState } from '../store/merge-requests';
import type { Store } from '../store/store';
import { getAgent, getBead, getRig, mergeRequestView, type MergeRequestRow } from '../store/views';
import type { TownConfig } from './config';
import { acceptResolution, resolvesOf, REWORK_LABELS, type ReworkLabel } from './rework';

/**
 * A run ended without `done`: the bead goes back to open for another attempt, or to
 * failed once the attempt cap is reached (attempts live on the bead, never the agent).
 */
export function returnBeadAfterFailedRun(store: Store, beadId: string, config: TownConfig, cause: string) {
  const bead = getBead(store, beadId);
  if (!bead || bead.status !== 'in_progress') return;
  if (bead.dispatch_attempts >= config['dispatch.max_attempts']) {
    setBeadStatus(store, beadId, { status: 'failed', assignee: null, reason: `gave up after ${bead.dispatch_attempts} attempts (${cause})`, cause });
    raiseEscalation(
      store,
      { severity: 'high', source: 'town', agent: bead.assignee, bead: beadId, reason: 'dispatch attempts exhausted',
        body: `${beadId} "${bead.title}" failed ${bead.dispatch_attempts} times; last: ${cause}. Reopen it when fixed.` },
      config['escalation.cooldown'],
    );
  } else {
    setBeadStatus(store, beadId, { status: 'open', assignee: null, cause });
  }
}

export type RunEnd =
  | { kind: 'failed'; cause: string }
  | { kind: 'clean_exit' | 'crash'; agent: string; exitCode: number | null; signal: number | null; tail: string };

/**
 * What follows a run that ended without `done`. A clean exit is respawned (once by
 * default) and a crash restarted with backoff (3 times) on the same hook; past those,
 * the agent is released, the bead reopened for another dispatch, and the overseer told.
 */
export function afterRunEnded(store: Store, config: TownConfig, beadId: string, end: RunEnd) {
  if (end.kind === 'failed') {
    returnBeadAfterFailedRun(store, beadId, config, end.cause);
    return;
  }
  const agent = getAgent(store, end.agent)!;
  const how = end.kind === 'clean_exit' ? 'exited without done' : `crashed (${end.exitCode !== null ? `exit ${end.exitCode}` : `signal ${end.signal}`})`;
  const lastLines = end.tail.split('\n').filter((l) => l.trim()).slice(-8);
  const clean = end.kind === 'clean_exit';
  const used = clean ? agent.run_respawns : agent.run_crashes;
  const allowed = clean ? config['health.respawn_clean_exits'] : config['health.crash_restarts'];
  if (used < allowed) {
    const backoff = clean ? [0] : config['health.crash_backoff'];
    const wait = backoff[Math.min(used, backoff.length - 1)] ?? 0;
    const summary = `${how}; ${clean ? 'respawn' : 'restart'} ${used + 1} of ${allowed}${wait ? ` in ${Math.round(wait / 1000)} s` : ''}`;
    scheduleRestart(store, agent.id, { at: store.now() + wait, crash: !clean, evidence: { summary, last_lines: lastLines, source: 'session' } });
    return;
  }
  const summary = `${how} ${clean ? `after ${used} respawn(s)` : `after ${used} restart(s)`}`;
  releaseAgent(store, agent.id, 'dead', summary, { summary, last_lines: lastLines, source: 'session' });
  returnBeadAfterFailedRun(store, beadId, config, how);
  raiseEscalation(
    store,
    { severity: 'high', source: 'town', agent: agent.id, bead: beadId, reason: clean ? 'agent keeps exiting without done' : 'agent keeps crashing',
      body: `${agent.id} on ${beadId}: ${summary}. The bead was reopened.\n\n${lastLines.join('\n')}`, evidence: { summary, last_lines: lastLines, source: 'session' } },
    config['escalation.cooldown'],
  );
}

/** The run was interrupted by the overseer or a shutdown: not the bead's fault, so it gets its attempt back. */
export function returnBeadAfterInterruption(store: Store, beadId: string, cause: string) {
  const bead = getBead(store, beadId);
  if (!bead || bead.status !== 'in_progress') return;
  refundDispatchAttempt(store, beadId, { clearBackoff: true });
  setBeadStatus(store, beadId, { status: 'open', assignee: null, cause });
}

/** The overseer closes a bead by hand: refused while an agent holds it or the refinery merges it. */
export function closeBeadForOverseer(store: Store, id: string, reason: string) {
  const bead = requireBead(store, id);
  assertNotTerminal(bead, 'close it');
  const holder = store.get<{ id: string }>('SELECT id FROM agents WHERE hook_bead_id = ?', bead.id);
  if (holder) throw conflict(`${bead.id} is hooked by ${holder.id}; stop that agent first (town stop ${holder.id})`, 'id');
  const inFlight = store.get<MergeRequestRow>(`SELECT * FROM merge_requests WHERE source_bead_id = ? AND state IN ('claimed','merging','testing')`, bead.id);
  if (inFlight) throw conflict(`${bead.id} is being merged (${inFlight.id}); wait for the refinery`, 'id');
  for (const mr of store.all<MergeRequestRow>(`SELECT * FROM merge_requests WHERE source_bead_id = ? AND state IN ('queued','blocked')`, bead.id)) {
    setMergeRequestState(store, mr.id, 'failed', { failure_type: 'cancelled', failure_tail: 'its bead was closed by the overseer' });
  }
  setBeadStatus(store, bead.id, { status: 'closed', reason, cause: 'closed by overseer' });
}

/**
 * An agent reported `town done` for the bead it holds: completed work is queued for the
 * refinery; escalated or deferred work goes back to open with its attempt refunded.
 */
export function acceptDone(
  store: Store,
  agentId: string,
  beadId: string,
  d: { status: DoneStatus; summary: string | null; headSha: string | null },
): MergeRequestView | null {
  const agent = getAgent(store, agentId)!;
  if (agent.hook_bead_id !== beadId || agent.done_bead_id) throw new ApiError('stale', `${agentId} no longer holds ${beadId}`, 'bead');
  const bead = requireBead(store, beadId);
  // Closed or failed under the agent (a superseded resolution bead, stopped meanwhile): its work is no longer wanted.
  if (bead.status === 'closed' || bead.status === 'failed') throw new ApiError('stale', `${beadId} is ${bead.status}${bead.close_reason ? ` (${bead.close_reason})` : ''}; ignored`, 'bead');
  recordDone(store, agentId, beadId, d.status, d.summary);
  if (d.status === 'completed') {
    const resolves = resolvesOf(bead);
    if (resolves) {
      const resumed = acceptResolution(store, bead, resolves, agent.branch!, d.headSha);
      return resumed ? mergeRequestView(resumed) : null;
    }
    const rig = getRig(store, agent.rig_id!)!;
    const mr = queueMergeRequest(store, {
      sourceBead: bead.id, rig: rig.id, branch: agent.branch!, target: mergeTargetOf(store, bead.id, rig), headSha: d.headSha,
      agent: agentId, title: bead.title, priority: bead.priority,
    });
    setBeadStatus(store, bead.id, { status: 'in_review', cause: `done by ${agentId}` });
    // Reworked and submitted again: the label said why it came back; the MR says what follows.
    const labels = JSON.parse(bead.labels) as string[];
    if (labels.some((l) => REWORK_LABELS.includes(l as ReworkLabel))) updateBeadFields(store, bead.id, { labels: labels.filter((l) => !REWORK_LABELS.includes(l as ReworkLabel)) });
    return mergeRequestView(mr);
  }
  if (d.status === 'escalated') {
    addBeadLabel(store, bead.id, 'escalated');
    sendMail(store, {
      from: agentId, to: OVERSEER, subject: `${bead.id} escalated by ${agent.name}`, body: d.summary ?? '',
      priority: 'high', kind: 'escalation',
    });
  }
  returnBeadAfterInterruption(store, bead.id, `${d.status} by ${agentId}`);
  return null;
}
