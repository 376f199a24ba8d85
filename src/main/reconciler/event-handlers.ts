// How each reported event changes the town. Every handler runs inside the transaction
// that marks its event processed, so each event takes effect exactly once.
import { releaseAgent, setAgentStatus } from '../store/agents';
import { refundDispatchAttempt, setBeadStatus } from '../store/beads';
import { escalate } from '../store/mail';
import { queueMergeRequest, setMergeRequestState } from '../store/merge-requests';
import type { Store } from '../store/store';
import { getAgent, getBead, getMergeRequest, getRig, type EventRow } from '../store/views';
import type { TownConfig } from './config';
import type { Effect } from './effects';
import { returnBeadAfterFailedRun, returnBeadAfterInterruption } from './transitions';

export interface HandlerContext {
  store: Store;
  config: TownConfig;
}

type Payload = Record<string, unknown>;
type Handler = (ctx: HandlerContext, e: EventRow, p: Payload) => Effect[];

const str = (v: unknown) => (typeof v === 'string' ? v : null);
const num = (v: unknown) => (typeof v === 'number' ? v : null);

const sessionSpawned: Handler = ({ store }, e, p) => {
  const agentId = e.agent_id!;
  const sessionId = str(p.session)!;
  store.run(
    `INSERT OR IGNORE INTO sessions (id, agent_id, bead_id, command, cwd, pid, pgid, process_start, started_at, log_path)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    sessionId, agentId, e.bead_id, str(p.command) ?? '', str(p.cwd) ?? '', num(p.pid), num(p.pgid), str(p.process_start), e.created_at, str(p.log_path),
  );
  const agent = getAgent(store, agentId);
  if (!agent || agent.status !== 'starting' || agent.hook_bead_id !== e.bead_id || agent.stop_reason) {
    // The agent moved on while this session started: it must not run unowned.
    return [{ type: 'stop_session', agent: agentId, session: sessionId, reason: 'superseded' }];
  }
  setAgentStatus(store, agentId, 'working', { session_id: sessionId });
  return [];
};

const sessionSpawnFailed: Handler = ({ store, config }, e, p) => {
  const agent = getAgent(store, e.agent_id!);
  if (!agent || agent.hook_bead_id !== e.bead_id) return [];
  releaseAgent(store, agent.id, 'dead', `could not start: ${str(p.error)}`);
  if (e.bead_id) returnBeadAfterFailedRun(store, e.bead_id, config, `session failed to start: ${str(p.error)}`);
  return [];
};

const sessionExited: Handler = ({ store, config }, e, p) => {
  const sessionId = str(p.session)!;
  const reason = str(p.reason) ?? 'exited';
  const code = num(p.exit_code);
  store.run(
    'UPDATE sessions SET ended_at = ?, exit_code = ?, signal = ?, bytes_out = ? WHERE id = ? AND ended_at IS NULL',
    e.created_at, code, num(p.signal), num(p.bytes_out) ?? 0, sessionId,
  );
  const agent = getAgent(store, e.agent_id!);
  if (!agent || agent.session_id !== sessionId) return []; // a stale session: recorded, nothing else
  const bead = agent.hook_bead_id;
  if (agent.done_bead_id && agent.done_bead_id === bead) {
    releaseAgent(store, agent.id, 'idle', 'done');
    return [];
  }
  if (reason === 'user' || reason === 'shutdown') {
    releaseAgent(store, agent.id, 'idle', reason === 'user' ? 'stopped by overseer' : 'town shut down');
    if (bead) returnBeadAfterInterruption(store, bead, reason === 'user' ? 'agent stopped by overseer' : 'town shut down');
    return [];
  }
  const how = code === 0 ? 'exited without done' : `crashed (exit ${code ?? `signal ${num(p.signal)}`})`;
  releaseAgent(store, agent.id, 'dead', how);
  if (bead) returnBeadAfterFailedRun(store, bead, config, how);
  return [];
};

const sessionActivity: Handler = ({ store }, e, p) => {
  store.run('UPDATE agents SET last_output_at = ? WHERE id = ? AND session_id = ?', e.created_at, e.agent_id, str(p.session));
  store.touch('agent', e.agent_id!);
  return [];
};

const refineryCandidate: Handler = ({ store }, _e, p) => {
  const mr = getMergeRequest(store, str(p.mr)!);
  if (!mr || mr.state !== 'claimed') return [];
  setMergeRequestState(store, mr.id, 'merging', { candidate_sha: str(p.candidate_sha) });
  return [];
};

const refineryTesting: Handler = ({ store }, _e, p) => {
  const mr = getMergeRequest(store, str(p.mr)!);
  if (!mr || mr.state !== 'merging') return [];
  setMergeRequestState(store, mr.id, 'testing');
  return [];
};

const refineryMerged: Handler = ({ store }, _e, p) => {
  const mr = getMergeRequest(store, str(p.mr)!);
  if (!mr || mr.state === 'merged') return [];
  setMergeRequestState(store, mr.id, 'merged', { merge_sha: str(p.merge_sha), backup_ref: str(p.backup_ref) });
  setBeadStatus(store, mr.id, { status: 'closed', reason: 'merged', cause: 'merged' });
  const source = getBead(store, mr.source_bead_id);
  if (source && source.status !== 'closed') {
    setBeadStatus(store, source.id, { status: 'closed', reason: `merged into ${mr.target} as ${str(p.merge_sha)?.slice(0, 10)}`, cause: 'merged' });
  }
  return [];
};

const refineryFailed: Handler = ({ store }, _e, p) => {
  const mr = getMergeRequest(store, str(p.mr)!);
  if (!mr || mr.state === 'merged' || mr.state === 'failed') return [];
  const type = str(p.failure_type) ?? 'error';
  const tail = str(p.tail) ?? '';
  setMergeRequestState(store, mr.id, 'failed', { failure_type: type, failure_tail: tail });
  setBeadStatus(store, mr.id, { status: 'failed', reason: type, cause: `merge ${type}` });
  const source = getBead(store, mr.source_bead_id);
  if (source && source.status === 'in_review') {
    setBeadStatus(store, source.id, { status: 'failed', reason: `merge failed: ${type}`, cause: `merge ${type}` });
    escalate(store, { bead: source.id, agent: null, reason: `merge failed (${type})`, body: tail.slice(-4000) });
  }
  return [];
};

const refineryBlocked: Handler = ({ store }, e, p) => {
  const mr = getMergeRequest(store, str(p.mr)!);
  if (!mr || !['claimed', 'merging', 'testing'].includes(mr.state)) return [];
  const retryAfter = num(p.retry_after_ms);
  setMergeRequestState(store, mr.id, 'blocked', {
    blocked_reason: str(p.reason),
    retry_at: retryAfter === null ? null : e.created_at + retryAfter,
  });
  return [];
};

/**
 * The bead's branch already held its finished work when an agent was about to start on it
 * (an earlier run committed, then was cut off before `town done`): it goes to the refinery
 * as if that run had reported, and the agent that was about to start is released.
 */
const workRecovered: Handler = ({ store }, e, p) => {
  const agent = getAgent(store, e.agent_id!);
  const bead = e.bead_id ? getBead(store, e.bead_id) : undefined;
  if (!agent || !bead || agent.hook_bead_id !== bead.id || agent.session_id || bead.status !== 'in_progress') return [];
  const rig = agent.rig_id ? getRig(store, agent.rig_id) : undefined;
  const branch = str(p.branch);
  const commits = Array.isArray(p.commits) ? p.commits.length : 0;
  if (!rig || !branch) return [];
  queueMergeRequest(store, {
    sourceBead: bead.id, rig: rig.id, branch, target: rig.default_branch, headSha: str(p.head_sha),
    agent: agent.id, title: bead.title, priority: bead.priority,
  });
  // The run never started, so it does not count as an attempt.
  refundDispatchAttempt(store, bead.id);
  setBeadStatus(store, bead.id, { status: 'in_review', cause: `${commits} commit(s) for ${bead.id} found on ${branch} after an interrupted run: offered to the refinery` });
  releaseAgent(store, agent.id, 'idle', `work for ${bead.id} was already on ${branch}`);
  return [];
};

/** The merge landed but the user's checkout could not follow: the overseer hears why. */
const refineryCheckoutBehind: Handler = ({ store }, e, p) => {
  escalate(store, { bead: e.bead_id, agent: e.agent_id, reason: 'checkout did not follow a merge', body: str(p.reason) ?? '' });
  return [];
};

export const EVENT_HANDLERS: Record<string, Handler> = {
  'session.spawned': sessionSpawned,
  'session.spawn_failed': sessionSpawnFailed,
  'session.exited': sessionExited,
  'session.activity': sessionActivity,
  'refinery.candidate': refineryCandidate,
  'refinery.testing': refineryTesting,
  'refinery.merged': refineryMerged,
  'refinery.failed': refineryFailed,
  'refinery.blocked': refineryBlocked,
  'refinery.checkout_behind': refineryCheckoutBehind,
  'work.recovered': workRecovered,
};

export function handleEvent(ctx: HandlerContext, e: EventRow): Effect[] {
  const handler = EVENT_HANDLERS[e.type];
  if (!handler) return [];
  return handler(ctx, e, JSON.parse(e.payload) as Payload);
}
