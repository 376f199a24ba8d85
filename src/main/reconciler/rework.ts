// Failed merges routed by type (issue 10). The refinery says which step failed; nothing
// here reads its output. A conflict blocks the MR and a resolution bead brings the branch up
// to the target; a failed gate or setup sends the bead itself back to its polecat. Either
// way the bead stays live (in review or open), so its convoy waits instead of landing or
// stranding, and after `mq.max_retries` reworks the overseer decides instead.
import { createBead, refundDispatchAttempt, setBeadStatus, slingBead, updateBeadFields } from '../store/beads';
import { raiseEscalation } from '../store/escalations';
import { sendMail } from '../store/mail';
import { MR_TRANSITIONS, setMergeRequestState } from '../store/merge-requests';
import { canTransition } from '../store/status-machine';
import { refineryAgentId } from '../store/rigs';
import type { Store } from '../store/store';
import { beadMetadata, getAgent, getBead, getMergeRequest, type BeadRow, type MergeRequestRow } from '../store/views';
import type { TownConfig } from './config';
import { awaitsResolution } from './resolution-beads';

export const REWORK_LABELS = ['needs-rebase', 'needs-fix', 'setup'] as const;
export type ReworkLabel = (typeof REWORK_LABELS)[number];

/** What a resolution bead resolves: kept in its metadata. */
export interface Resolves {
  mr: string;
  bead: string;
  target: string;
  files: string[];
}

export function resolvesOf(bead: Pick<BeadRow, 'metadata'>): Resolves | null {
  const r = beadMetadata(bead).resolves as Resolves | undefined;
  return r && typeof r.mr === 'string' ? r : null;
}

/**
 * A merge failed, routed by the type the refinery reports (which step failed, never its
 * output): a conflict blocks the MR on a resolution bead; a failed gate or setup sends the
 * bead back to its polecat; anything else (the branch gone, an error) fails the bead and
 * tells the overseer. The target branch was not touched on any of these paths.
 */
export function routeFailedMerge(store: Store, config: TownConfig, mr: MergeRequestRow, p: { failure_type: string; tail: string; files?: string[] }) {
  const type = p.failure_type;
  // Only a run that holds the MR reports on it: one put back in the queue meanwhile (an
  // expired lease, a restart) is judged by its next run, not by this stale report.
  if (!['claimed', 'merging', 'testing'].includes(mr.state)) return;
  if (type === 'conflict') {
    blockOnConflict(store, config, mr, getBead(store, mr.source_bead_id), p.files ?? [], p.tail);
    return;
  }
  if (!canTransition(MR_TRANSITIONS, mr.state, 'failed')) return;
  setMergeRequestState(store, mr.id, 'failed', { failure_type: type, failure_tail: p.tail });
  if (getBead(store, mr.id)?.status === 'open') setBeadStatus(store, mr.id, { status: 'failed', reason: type, cause: `merge ${type}` });
  const source = getBead(store, mr.source_bead_id);
  if (!source || source.status !== 'in_review') return;
  if (type.startsWith('gate:') || type === 'setup') {
    sendBackForFix(store, config, mr, source, type, p.tail);
    return;
  }
  setBeadStatus(store, source.id, { status: 'failed', reason: `merge failed: ${type}`, cause: `merge ${type}` });
  raiseEscalation(
    store,
    { severity: 'high', source: 'refinery', agent: null, bead: source.id, reason: `merge failed (${type})`, body: p.tail.slice(-4000),
      evidence: { summary: `${mr.id} failed at ${type}`, last_lines: p.tail.split('\n').slice(-10), source: 'refinery' } },
    config['escalation.cooldown'],
  );
}

const reworksOf = (bead: BeadRow) => Number(beadMetadata(bead).reworks ?? 0);

/**
 * Where the rework goes: back to the polecat that did the work while it exists and holds
 * nothing else (or only this bead, finishing its `done`); otherwise to the rig, where any
 * polecat takes it and continues from the bead's branch.
 */
function reworkTarget(store: Store, source: BeadRow): string {
  const agent = source.assignee ? getAgent(store, source.assignee) : undefined;
  if (agent && agent.role === 'polecat' && (agent.hook_bead_id === null || agent.hook_bead_id === source.id)) return agent.id;
  return source.rig_id!;
}

/** Past the cap: the bead fails and the overseer hears why, instead of another loop. */
function overRetryCap(store: Store, config: TownConfig, source: BeadRow, mr: MergeRequestRow, type: string, tail: string): boolean {
  const count = reworksOf(source);
  if (count < config['mq.max_retries']) return false;
  setBeadStatus(store, source.id, { status: 'failed', reason: `merge failed (${type}) after ${count} rework(s)`, cause: `merge ${type}` });
  raiseEscalation(
    store,
    { severity: 'high', source: 'refinery', agent: null, bead: source.id, reason: `merge keeps failing (${type}) after ${count} rework(s)`, body: tail.slice(-4000),
      evidence: { summary: `${mr.id} failed at ${type}; ${source.id} was sent back ${count} time(s) (mq.max_retries ${config['mq.max_retries']})`, last_lines: tail.split('\n').slice(-10), source: 'refinery' } },
    config['escalation.cooldown'],
  );
  return true;
}

/**
 * A gate (or the refinery's setup) failed on this bead's work: the MR is already failed; the
 * bead goes back to open, labelled, slung to its polecat, with the failure tail in its mail.
 */
export function sendBackForFix(store: Store, config: TownConfig, mr: MergeRequestRow, source: BeadRow, type: string, tail: string) {
  if (overRetryCap(store, config, source, mr, type, tail)) return;
  const label: ReworkLabel = type === 'setup' ? 'setup' : 'needs-fix';
  const count = reworksOf(source) + 1;
  const to = reworkTarget(store, source);
  const labels = [...(JSON.parse(source.labels) as string[]).filter((l) => !REWORK_LABELS.includes(l as ReworkLabel)), label];
  updateBeadFields(store, source.id, { labels, metadata: { reworks: count, rework: { mr: mr.id, failure: type, tail: tail.slice(-2000) } } });
  setBeadStatus(store, source.id, { status: 'open', assignee: null, cause: `${mr.id} failed at ${type}: back to ${to} (${label})` });
  // A rework is not a failed run: its dispatch must not use up the bead's attempts.
  refundDispatchAttempt(store, source.id, { clearBackoff: true });
  slingBead(store, source.id, to, source.rig_id);
  sendMail(store, {
    from: refineryAgentId(mr.rig_id), to, subject: `${source.id} needs a fix: ${type} failed on ${mr.id}`,
    body: `${source.title}\n\nThe refinery's ${type} failed on your branch ${mr.branch}. Fix it, commit, and run town done again.\n\n${tail.slice(-3000)}`,
    priority: 'high', kind: 'rework',
  });
  store.event({ type: 'bead.rework', bead: source.id, payload: { mr: mr.id, label, count, to } });
}

/**
 * A merge conflict: the MR waits (blocked, no retry time) while a resolution bead brings the
 * branch up to the target. The source stays in review behind its live MR; the queue goes on.
 */
export function blockOnConflict(store: Store, config: TownConfig, mr: MergeRequestRow, source: BeadRow | undefined, files: string[], tail: string) {
  if (!source || source.status !== 'in_review') {
    setMergeRequestState(store, mr.id, 'failed', { failure_type: 'conflict', failure_tail: tail });
    return;
  }
  if (overRetryCap(store, config, source, mr, 'conflict', tail)) {
    setMergeRequestState(store, mr.id, 'failed', { failure_type: 'conflict', failure_tail: tail });
    return;
  }
  const count = reworksOf(source) + 1;
  const resolves: Resolves = { mr: mr.id, bead: source.id, target: mr.target, files };
  const scenario = beadMetadata(source).scenario;
  const resolution = createBead(store, {
    rig: source.rig_id,
    type: 'task',
    title: `Resolve merge conflict: ${source.title}`,
    body: `${source.id}'s branch ${mr.branch} conflicts with ${mr.target} in:\n${files.map((f) => `- ${f}`).join('\n')}\n\n` +
      `Merge ${mr.target} into the branch, keep both sides' intent, commit, and run town done; ${mr.id} then merges the resolved commit.`,
    priority: 0,
    labels: ['needs-rebase'],
    // The parent link keeps the original in reach of the resolution, whatever happens to it.
    parent: source.id,
    metadata: { resolves, ...(typeof scenario === 'string' ? { scenario } : {}) },
    origin: { kind: 'agent', id: refineryAgentId(mr.rig_id) },
  });
  updateBeadFields(store, source.id, { metadata: { reworks: count } });
  setMergeRequestState(store, mr.id, 'blocked', {
    failure_type: 'conflict', failure_tail: tail, retry_at: null, resolution_bead: resolution.id,
    blocked_reason: `blocked on ${resolution.id}: resolve merge conflict in ${files.join(', ') || 'the branch'}`,
  });
  const to = reworkTarget(store, source);
  slingBead(store, resolution.id, to, source.rig_id);
  sendMail(store, {
    from: refineryAgentId(mr.rig_id), to, subject: `${resolution.id}: resolve the merge conflict of ${source.id}`,
    body: `${resolution.body}\n\n${tail.slice(-2000)}`, priority: 'high', kind: 'rework',
  });
  store.event({ type: 'bead.rework', bead: source.id, payload: { mr: mr.id, label: 'needs-rebase', count, to, resolution: resolution.id } });
}

/**
 * `town done` on a resolution bead. The blocked MR takes the resolved commit and queues again
 * (not a new MR: it keeps its place, age and history, and the source keeps one live MR).
 * Returns the MR, or null when it no longer waits (rejected meanwhile): then nothing queues.
 */
export function acceptResolution(store: Store, resolution: BeadRow, r: Resolves, branch: string, headSha: string | null): MergeRequestRow | null {
  const mr = getMergeRequest(store, r.mr);
  // Only the bead the MR waits on now: one superseded by a retry (and perhaps a newer
  // conflict's resolution bead) must not re-queue it with its own commit.
  const live = awaitsResolution(mr, resolution.id) && getBead(store, r.bead)?.status === 'in_review';
  if (live) {
    store.run('UPDATE merge_requests SET branch = ?, head_sha = ? WHERE id = ?', branch, headSha, mr.id);
    setMergeRequestState(store, mr.id, 'queued', { failure_type: null, failure_tail: null, blocked_reason: null, retry_at: null });
  }
  setBeadStatus(store, resolution.id, {
    status: 'closed', reason: live ? `resolved at ${headSha?.slice(0, 10) ?? branch}; ${r.mr} queued again` : `${r.mr} no longer waits for it`, cause: 'conflict resolved',
  });
  return live ? getMergeRequest(store, r.mr)! : null;
}
