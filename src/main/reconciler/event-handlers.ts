// How each reported event changes the town. Every handler runs inside the transaction
// that marks its event processed, so each event takes effect exactly once. Payloads
// arrive parsed (src/shared/events.ts); a report from an earlier launch or session of
// its agent is recorded as ignored and changes nothing.
import { targetMovedText } from '../../shared/event-text';
import type { EventPayload, EventType, ParsedEvent } from '../../shared/events';
import { releaseAgent, setAgentStatus } from '../store/agents';
import { refundDispatchAttempt, setBeadStatus } from '../store/beads';
import { mergeTargetOf } from '../store/convoy-branches';
import { raiseEscalation } from '../store/escalations';
import { markMergeRequestFlaky, MR_TRANSITIONS, queueMergeRequest, renewMergeLease, setMergeRequestState } from '../store/merge-requests';
import { markPolecatGc, removePolecat } from '../store/polecat-gc';
import { canTransition } from '../store/status-machine';
import { recordSessionEnded, recordSessionStarted, recordSessionStopRequested } from '../store/sessions';
import type { Store } from '../store/store';
import { getAgent, getBead, getMergeRequest, getRig, type AgentRow, type EventRow } from '../store/views';
import type { TownConfig } from './config';
import type { Effect } from './effects';
import { noteAgentInput, noteAgentProgress, noteAgentWaiting } from './health';
import { refineryPushFailed } from './push-handlers';
import { failUnresolvedConflict } from './resolution-beads';
import { routeFailedMerge } from './rework';
import { runtimeBlocked, runtimeMissing } from './runtime-handlers';
import { usageRecorded } from './budgets';
import { afterRunEnded, returnBeadAfterInterruption } from './transitions';

export interface HandlerContext {
  store: Store;
  config: TownConfig;
}

type Handler<T extends EventType> = (ctx: HandlerContext, e: EventRow, p: EventPayload<T>) => Effect[];
type HandlerTable = { [T in EventType]?: Handler<T> };

/** Records why a report was not applied (the event log shows it next to the report). */
function ignore(store: Store, e: EventRow, why: string): Effect[] {
  store.event({ type: 'event.ignored', agent: e.agent_id, bead: e.bead_id, payload: { seq: e.seq, type: e.type, why } });
  return [];
}

/** The agent's current launch, when the report belongs to it; null (recorded) otherwise. */
function currentLaunch(store: Store, e: EventRow, launch: string | null | undefined): AgentRow | null {
  const agent = e.agent_id ? getAgent(store, e.agent_id) : undefined;
  if (!agent) return (ignore(store, e, 'no such agent'), null);
  if (launch && agent.launch_id !== launch) return (ignore(store, e, `from launch ${launch}; the agent is on ${agent.launch_id ?? 'none'}`), null);
  return agent;
}

const sessionSpawned: Handler<'session.spawned'> = ({ store }, e, p) => {
  const agentId = e.agent_id!;
  recordSessionStarted(store, {
    id: p.session, agent: agentId, bead: e.bead_id, launch: p.launch ?? null, command: p.command, cwd: p.cwd, pid: p.pid ?? null,
    pgid: p.pgid ?? null, processStart: p.process_start ?? null, startedAt: e.created_at, logPath: p.log_path ?? null,
  });
  const agent = getAgent(store, agentId);
  const current = agent && (!p.launch || agent.launch_id === p.launch);
  if (!agent || !current || agent.status !== 'starting' || agent.hook_bead_id !== e.bead_id || agent.stop_reason) {
    // The agent moved on while this session started: it must not run unowned.
    if (agent && !current) ignore(store, e, `from launch ${p.launch}; the agent is on ${agent.launch_id ?? 'none'}`);
    recordSessionStopRequested(store, p.session);
    return [{ type: 'stop_session', agent: agentId, session: p.session, reason: 'superseded' }];
  }
  setAgentStatus(store, agentId, 'working', { session_id: p.session, cause: 'session started' });
  return [];
};

const sessionSpawnFailed: Handler<'session.spawn_failed'> = ({ store, config }, e, p) => {
  const agent = currentLaunch(store, e, p.launch);
  if (!agent || agent.hook_bead_id !== e.bead_id || agent.session_id) return [];
  if (p.interrupted) {
    // Cut off by the engine stopping (or a restart): the run never began, so nothing failed.
    releaseAgent(store, agent.id, 'idle', `start interrupted: ${p.error}`);
    if (e.bead_id) returnBeadAfterInterruption(store, e.bead_id, `start interrupted: ${p.error}`);
    return [];
  }
  releaseAgent(store, agent.id, 'dead', `could not start: ${p.error}`);
  if (e.bead_id) afterRunEnded(store, config, e.bead_id, { kind: 'failed', cause: `session failed to start: ${p.error}` });
  return [];
};

const sessionExited: Handler<'session.exited'> = ({ store, config }, e, p) => {
  recordSessionEnded(store, p.session, { endedAt: e.created_at, exitCode: p.exit_code ?? null, signal: p.signal ?? null, bytesOut: p.bytes_out });
  const agent = getAgent(store, e.agent_id!);
  if (!agent || agent.session_id !== p.session) return []; // a stale session: recorded, nothing else
  // Released before this exit was seen (a stop that found the process already gone): recorded, nothing else.
  if (!agent.hook_bead_id && (agent.status === 'idle' || agent.status === 'dead')) return [];
  const bead = agent.hook_bead_id;
  if (agent.done_bead_id && agent.done_bead_id === bead) {
    releaseAgent(store, agent.id, 'idle', 'done');
    return [];
  }
  if (p.reason === 'user' || p.reason === 'shutdown' || p.reason === 'hold') {
    const why = p.reason === 'shutdown' ? 'town shut down' : 'stopped by overseer';
    releaseAgent(store, agent.id, 'idle', why);
    if (bead) returnBeadAfterInterruption(store, bead, p.reason === 'shutdown' ? why : 'agent stopped by overseer');
    return [];
  }
  if (p.reason === 'health') {
    releaseAgent(store, agent.id, 'dead', 'stopped: no progress');
    if (bead) afterRunEnded(store, config, bead, { kind: 'failed', cause: 'stopped after no progress' });
    return [];
  }
  const code = p.exit_code ?? null;
  if (bead) {
    afterRunEnded(store, config, bead, { kind: code === 0 ? 'clean_exit' : 'crash', agent: agent.id, exitCode: code, signal: p.signal ?? null, tail: p.tail ?? '' });
    return [];
  }
  releaseAgent(store, agent.id, 'dead', code === 0 ? 'exited' : `crashed (exit ${code ?? `signal ${p.signal}`})`);
  return [];
};

const sessionActivity: Handler<'session.activity'> = ({ store }, e, p) => {
  store.run('UPDATE agents SET last_output_at = ? WHERE id = ? AND session_id = ?', e.created_at, e.agent_id, p.session);
  store.touch('agent', e.agent_id!);
  return [];
};

const PROGRESS_CAUSE = { screen: 'screen changed', git: 'git state changed', runtime: 'the runtime reports it goes on' } as const;

const sessionProgress: Handler<'session.progress'> = ({ store }, e, p) => {
  noteAgentProgress(store, e.agent_id!, p.session, e.created_at, PROGRESS_CAUSE[p.source ?? 'screen'], p.source);
  return [];
};

const sessionWaiting: Handler<'session.waiting'> = ({ store }, e, p) => {
  noteAgentWaiting(store, e.agent_id!, p.session, p.evidence);
  return [];
};

const sessionInput: Handler<'session.input'> = ({ store }, e, p) => {
  noteAgentInput(store, e.agent_id!, p.session, e.created_at);
  return [];
};

/** Every step of a run and its gates' output renew the claim's lease (see expireMergeLeases). */
const mergeLeaseRenewed = ({ store, config }: HandlerContext, e: EventRow, p: { mr: string }): Effect[] => {
  renewMergeLease(store, p.mr, e.created_at + config['mq.lease']);
  return [];
};

const refineryCandidate: Handler<'refinery.candidate'> = ({ store, config }, e, p) => {
  mergeLeaseRenewed({ store, config }, e, p);
  const mr = getMergeRequest(store, p.mr);
  if (!mr || mr.state !== 'claimed') return [];
  setMergeRequestState(store, mr.id, 'merging', { candidate_sha: p.candidate_sha });
  return [];
};

const refineryTesting: Handler<'refinery.testing'> = ({ store, config }, e, p) => {
  mergeLeaseRenewed({ store, config }, e, p);
  const mr = getMergeRequest(store, p.mr);
  if (!mr || mr.state !== 'merging') return [];
  setMergeRequestState(store, mr.id, 'testing');
  return [];
};

const refineryMerged: Handler<'refinery.merged'> = ({ store }, _e, p) => {
  const mr = getMergeRequest(store, p.mr);
  // A merge reported for an MR already merged or cancelled is recorded and ignored.
  if (!mr || !canTransition(MR_TRANSITIONS, mr.state, 'merged')) return [];
  setMergeRequestState(store, mr.id, 'merged', { merge_sha: p.merge_sha ?? null, backup_ref: p.backup_ref ?? null });
  if (getBead(store, mr.id)?.status === 'open') setBeadStatus(store, mr.id, { status: 'closed', reason: 'merged', cause: 'merged' });
  const source = getBead(store, mr.source_bead_id);
  // A terminal source stays as it is (invariant 5); the merge is still on record in its MR.
  // A landing MR's source is its convoy, which lands by its own rule (convoy-branches.ts).
  if (source && source.type !== 'convoy' && (source.status === 'in_review' || source.status === 'in_progress' || source.status === 'open')) {
    setBeadStatus(store, source.id, { status: 'closed', reason: `merged into ${mr.target} as ${p.merge_sha?.slice(0, 10)}`, cause: 'merged' });
  }
  return [];
};

/** A merge failed: routed by the type the refinery reports (rework.ts). */
const refineryFailed: Handler<'refinery.failed'> = ({ store, config }, _e, p) => {
  const mr = getMergeRequest(store, p.mr);
  if (!mr) return [];
  const source = getBead(store, mr.source_bead_id);
  // A landing MR (integration mode) has no polecat to send work back to: it fails, and the
  // overseer hears, since the convoy waits on it.
  if (source?.type === 'convoy') {
    if (!canTransition(MR_TRANSITIONS, mr.state, 'failed')) return [];
    const type = p.failure_type;
    setMergeRequestState(store, mr.id, 'failed', { failure_type: type, failure_tail: p.tail });
    if (getBead(store, mr.id)?.status === 'open') setBeadStatus(store, mr.id, { status: 'failed', reason: type, cause: `merge ${type}` });
    raiseEscalation(
      store,
      { severity: 'high', source: 'refinery', agent: null, bead: source.id, reason: `convoy landing failed (${type})`, body: p.tail.slice(-4000),
        evidence: { summary: `${mr.id} (${mr.branch} into ${mr.target}) failed at ${type}`, last_lines: p.tail.split('\n').slice(-10), source: 'refinery' } },
      config['escalation.cooldown'],
    );
    return [];
  }
  routeFailedMerge(store, config, mr, p);
  return [];
};

/** A gate failed, then passed on its rerun: the MR goes on, marked flaky for the views. */
const refineryFlaky: Handler<'refinery.flaky'> = ({ store }, _e, p) => {
  if (!getMergeRequest(store, p.mr)) return [];
  markMergeRequestFlaky(store, p.mr);
  return [];
};

const refineryBlocked: Handler<'refinery.blocked'> = ({ store }, e, p) => {
  const mr = getMergeRequest(store, p.mr);
  if (!mr || !['claimed', 'merging', 'testing'].includes(mr.state)) return [];
  const retryAfter = p.retry_after_ms ?? null;
  setMergeRequestState(store, mr.id, 'blocked', { blocked_reason: p.reason, retry_at: retryAfter === null ? null : e.created_at + retryAfter });
  return [];
};

/**
 * The bead's branch already held its finished work when an agent was about to start on it
 * (an earlier run committed, then was cut off before `town done`): it goes to the refinery
 * as if that run had reported, and the agent that was about to start is released.
 */
const workRecovered: Handler<'work.recovered'> = ({ store }, e, p) => {
  const agent = currentLaunch(store, e, p.launch);
  const bead = e.bead_id ? getBead(store, e.bead_id) : undefined;
  if (!agent || !bead || agent.hook_bead_id !== bead.id || agent.session_id || bead.status !== 'in_progress') return [];
  const rig = agent.rig_id ? getRig(store, agent.rig_id) : undefined;
  if (!rig) return [];
  queueMergeRequest(store, {
    sourceBead: bead.id, rig: rig.id, branch: p.branch, target: mergeTargetOf(store, bead.id, rig), headSha: p.head_sha ?? null,
    agent: agent.id, title: bead.title, priority: bead.priority,
  });
  // The run never started, so it does not count as an attempt.
  refundDispatchAttempt(store, bead.id);
  setBeadStatus(store, bead.id, { status: 'in_review', cause: `${p.commits.length} commit(s) for ${bead.id} found on ${p.branch} after an interrupted run: offered to the refinery` });
  releaseAgent(store, agent.id, 'idle', `work for ${bead.id} was already on ${p.branch}`);
  return [];
};

/** The merge landed but the user's checkout could not follow: the overseer hears why. */
const refineryCheckoutBehind: Handler<'refinery.checkout_behind'> = ({ store, config }, e, p) => {
  raiseEscalation(
    store,
    { severity: 'medium', source: 'refinery', agent: e.agent_id, bead: e.bead_id, reason: 'checkout did not follow a merge', body: p.reason },
    config['escalation.cooldown'],
  );
  return [];
};

/**
 * Invariant 7: a target branch moved outside the refinery. A fast-forward (a user's own
 * commit) is information; a rewrite is medium, high when it dropped the refinery's merges.
 * Fast-forwards of one branch collapse into one escalation until acked (the events keep
 * each); every rewrite is its own.
 */
const targetMovedOutside: Handler<'rig.target_moved_outside'> = ({ store, config }, e, p) => {
  const summary = targetMovedText(p);
  const droppedMerges = p.dropped.filter((d) => d.refinery).length;
  const severity = p.kind === 'fast-forward' ? 'low' : droppedMerges > 0 ? 'high' : 'medium';
  const branch = `${p.rig}/${p.target}`;
  const reason = p.kind === 'fast-forward' ? `${branch} moved outside the refinery` : `${branch} rewritten outside the refinery (${p.from.slice(0, 10)} → ${p.to.slice(0, 10)})`;
  const lines = p.dropped.map((d) => `${d.sha.slice(0, 10)} ${d.subject}${d.refinery ? ' (merged by the refinery)' : ''}`);
  const advice = droppedMerges > 0 ? `Merged work is no longer on ${p.target}; the old tip is ${p.from} (git branch rescue ${p.from.slice(0, 10)}).` : '';
  raiseEscalation(
    store,
    { severity, source: 'refinery', agent: e.agent_id, bead: null, reason, body: [summary, advice, ...lines].filter(Boolean).join('\n'), evidence: { summary, last_lines: lines, source: 'target-watch' } },
    config['escalation.cooldown'],
  );
  return [];
};

/** Processes that survived a kill may still write to a worktree or a branch: the overseer must know. */
const sessionKillFailed: Handler<'session.kill_failed'> = ({ store, config }, e, p) => {
  const summary = `process group ${p.pgid} of ${p.kind ?? 'agent'} session ${p.session} survived a kill (${p.during}): ${p.error}`;
  raiseEscalation(
    store,
    { severity: 'high', source: 'town', agent: e.agent_id, bead: e.bead_id, reason: 'a process group survived a kill', body: `${summary}\nKill it by hand (kill -KILL -${p.pgid}) and check its worktree.`, evidence: { summary, source: 'sessions' } },
    config['escalation.cooldown'],
  );
  return [];
};

/**
 * An idle polecat's worktree was inspected: gone or removed → the polecat goes too; holding
 * work → kept and reported once (low), never deleted. It takes work again meanwhile.
 */
const polecatGcChecked: Handler<'polecat.gc_checked'> = ({ store, config }, e, p) => {
  const agent = getAgent(store, e.agent_id!);
  if (!agent || agent.gc_state !== 'checking') return ignore(store, e, 'the polecat is no longer being collected');
  if (p.outcome === 'removed' || p.outcome === 'missing') {
    const idle = `idle for ${Math.round((e.created_at - (agent.status_since ?? agent.updated_at)) / 3_600_000)} h`;
    const cause = p.outcome === 'removed' ? `${idle}; worktree ${p.worktree} was clean and merged, removed` : `${idle}; its worktree no longer exists`;
    if (!removePolecat(store, agent.id, cause)) {
      // It took work, or a bead was slung to it, meanwhile: it stays, and takes work again.
      markPolecatGc(store, agent.id, null);
      ignore(store, e, 'the polecat took work, or a bead was slung to it, meanwhile');
    }
    return [];
  }
  markPolecatGc(store, agent.id, 'kept');
  const summary =
    p.outcome === 'dirty' ? `worktree ${p.worktree} has ${p.files.length} uncommitted file(s): ${p.files.slice(0, 5).join(', ')}`
    : p.outcome === 'unmerged' ? `worktree ${p.worktree} has ${p.commits.length} commit(s) not on the target: ${p.commits.slice(0, 3).map((c) => `${c.sha.slice(0, 10)} ${c.subject}`).join('; ')}`
    : `worktree ${p.worktree} could not be inspected: ${p.error ?? 'unknown error'}`;
  const details = p.outcome === 'dirty' ? p.files : p.commits.map((c) => `${c.sha.slice(0, 10)} ${c.subject}`);
  raiseEscalation(
    store,
    { severity: 'low', source: 'town', agent: agent.id, bead: null, reason: 'idle polecat kept: its worktree holds work',
      body: [`${agent.id} is idle and was not removed: ${summary}.`, 'Commit, merge or discard the work, then it is collected next time it idles.', ...details].join('\n'),
      evidence: { summary, last_lines: details.slice(0, 20), source: 'gc' } },
    config['escalation.cooldown'],
  );
  return [];
};

/** A bead ended while an MR was blocked on it (only then is its status event pending). */
const resolutionEnded = ({ store, config }: HandlerContext, e: EventRow): Effect[] => {
  if (e.bead_id) failUnresolvedConflict(store, config, e.bead_id);
  return [];
};

export const EVENT_HANDLERS: HandlerTable = {
  'bead.closed': resolutionEnded,
  'bead.failed': resolutionEnded,
  'session.spawned': sessionSpawned,
  'session.spawn_failed': sessionSpawnFailed,
  'session.exited': sessionExited,
  'session.activity': sessionActivity,
  'session.progress': sessionProgress,
  'session.waiting': sessionWaiting,
  'session.input': sessionInput,
  'refinery.candidate': refineryCandidate,
  'refinery.testing': refineryTesting,
  'refinery.merged': refineryMerged,
  'refinery.failed': refineryFailed,
  'refinery.blocked': refineryBlocked,
  'refinery.flaky': refineryFlaky,
  'refinery.checkout_behind': refineryCheckoutBehind,
  'refinery.setup': mergeLeaseRenewed,
  'mr.lease_renewed': mergeLeaseRenewed,
  'refinery.push_failed': refineryPushFailed,
  'rig.target_moved_outside': targetMovedOutside,
  'work.recovered': workRecovered,
  'polecat.gc_checked': polecatGcChecked,
  'session.kill_failed': sessionKillFailed,
  'runtime.missing': runtimeMissing,
  'agent.runtime_blocked': runtimeBlocked,
  'usage.recorded': usageRecorded,
};

export function handleEvent(ctx: HandlerContext, e: EventRow, parsed: ParsedEvent): Effect[] {
  const handler = EVENT_HANDLERS[parsed.type] as Handler<EventType> | undefined;
  return handler ? handler(ctx, e, parsed.payload as never) : [];
}
