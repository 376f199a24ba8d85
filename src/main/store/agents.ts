// Agent writes: creation, hooking a bead, launches, health, and releasing the hook. The
// status column changes only here, through AGENT_TRANSITIONS, each change with its cause
// and, for waiting, stalled and dead, the evidence a person can check.
import { randomBytes } from 'node:crypto';
import type { AgentRole, AgentStatus } from '../../shared/domain';
import { conflict, notFound } from '../../shared/errors';
import type { Evidence } from '../../shared/events';
import { assertTransition, type TransitionTable } from './status-machine';
import type { Store } from './store';
import { getAgent, type AgentRow } from './views';

export const AGENT_TRANSITIONS: TransitionTable<AgentStatus> = {
  idle: ['idle', 'starting'],
  starting: ['working', 'idle', 'dead'],
  working: ['waiting', 'stalled', 'idle', 'dead'],
  waiting: ['working', 'stalled', 'idle', 'dead'],
  stalled: ['working', 'waiting', 'idle', 'dead'],
  // A dead agent with its hook kept is restarted on it (a crash, a clean exit respawned).
  dead: ['dead', 'starting', 'idle'],
};

export const newLaunchId = () => `l-${randomBytes(5).toString('hex')}`;

export function requireAgent(store: Store, id: string, field = 'agent'): AgentRow {
  const a = getAgent(store, id);
  if (!a) throw notFound('agent', id, field);
  return a;
}

export function createAgent(store: Store, a: { id: string; role: AgentRole; rig: string | null; name: string; runtime: string | null; worktree: string | null }): AgentRow {
  const now = store.now();
  store.run(
    `INSERT INTO agents (id, role, rig_id, name, status, runtime, worktree, created_at, updated_at, status_since) VALUES (?, ?, ?, ?, 'idle', ?, ?, ?, ?, ?)`,
    a.id, a.role, a.rig, a.name, a.runtime, a.worktree, now, now, now,
  );
  store.event({ type: 'agent.created', agent: a.id, payload: { role: a.role, rig: a.rig } });
  store.touch('agent', a.id);
  return getAgent(store, a.id)!;
}

/**
 * Binds a bead to an agent and starts its first launch. One agent per bead: refused if
 * another agent holds it. Returns the launch id every report of this start must carry.
 */
export function hookBead(store: Store, agentId: string, beadId: string, branch: string | null): string {
  const holder = store.get<{ id: string }>('SELECT id FROM agents WHERE hook_bead_id = ? AND id <> ?', beadId, agentId);
  if (holder) throw conflict(`${beadId} is already hooked by ${holder.id}`, 'bead');
  const a = requireAgent(store, agentId);
  assertTransition('agent', agentId, AGENT_TRANSITIONS, a.status, 'starting');
  const launch = newLaunchId();
  const now = store.now();
  store.run(
    `UPDATE agents SET hook_bead_id = ?, branch = coalesce(?, branch), status = 'starting', status_since = ?, status_evidence = NULL,
       launch_id = ?, done_bead_id = NULL, done_at = NULL, stop_reason = NULL, session_id = NULL, last_progress_at = ?,
       nudged_at = NULL, health_escalated_at = NULL, run_respawns = 0, run_crashes = 0, restart_at = NULL,
       turn_ended_at = NULL, finish_reminders = 0, updated_at = ? WHERE id = ?`,
    beadId, branch, now, launch, now, now, agentId,
  );
  store.event({ type: 'agent.hooked', agent: agentId, bead: beadId, payload: { launch } });
  store.touch('agent', agentId);
  return launch;
}

/** A restart on the same hook (after a crash or a clean exit): a new launch, counters kept. */
export function relaunchAgent(store: Store, agentId: string): string {
  const a = requireAgent(store, agentId);
  assertTransition('agent', agentId, AGENT_TRANSITIONS, a.status, 'starting');
  const launch = newLaunchId();
  const now = store.now();
  store.run(
    `UPDATE agents SET status = 'starting', status_since = ?, status_evidence = NULL, launch_id = ?, stop_reason = NULL, session_id = NULL,
       restart_at = NULL, turn_ended_at = NULL, last_progress_at = ?, nudged_at = NULL, health_escalated_at = NULL, updated_at = ? WHERE id = ?`,
    now, launch, now, now, agentId,
  );
  store.event({ type: 'agent.status', agent: agentId, bead: a.hook_bead_id, payload: { from: a.status, to: 'starting' } });
  store.touch('agent', agentId);
  return launch;
}

/** Only the hash of a session's token is stored; the plain value goes to the PTY's env. */
export function setAgentToken(store: Store, agentId: string, tokenHash: string | null) {
  store.run('UPDATE agents SET token_hash = ? WHERE id = ?', tokenHash, agentId);
}

/** A stop was asked for; the status changes only when the session's exit is seen. */
export function markStopping(store: Store, agentId: string, reason: string) {
  store.run('UPDATE agents SET stop_reason = ? WHERE id = ?', reason, agentId);
  // Names the bead too, so the bead's history shows why its agent was stopped.
  store.event({ type: 'agent.stopping', agent: agentId, bead: requireAgent(store, agentId).hook_bead_id, payload: { reason } });
  store.touch('agent', agentId);
}

/** The agent reported `town done` for its hooked bead. */
export function recordDone(store: Store, agentId: string, beadId: string, status: string, summary: string | null) {
  const now = store.now();
  store.run('UPDATE agents SET done_bead_id = ?, done_at = ?, last_activity_at = ?, last_progress_at = ? WHERE id = ?', beadId, now, now, now, agentId);
  store.event({ type: 'agent.done', agent: agentId, bead: beadId, payload: { status, summary } });
  store.touch('agent', agentId);
}

export interface StatusChange {
  session_id?: string | null;
  cause: string;
  evidence?: Evidence | null;
}

export function setAgentStatus(store: Store, agentId: string, status: AgentStatus, change: StatusChange) {
  const a = requireAgent(store, agentId);
  assertTransition('agent', agentId, AGENT_TRANSITIONS, a.status, status);
  const now = store.now();
  const changed = a.status !== status;
  store.run(
    `UPDATE agents SET status = ?, session_id = ?, status_since = ?, status_evidence = ?, updated_at = ? WHERE id = ?`,
    status,
    change.session_id === undefined ? a.session_id : change.session_id,
    changed ? now : a.status_since,
    change.evidence === undefined ? (changed ? null : a.status_evidence) : change.evidence && JSON.stringify(change.evidence),
    now,
    agentId,
  );
  if (changed) {
    store.event({
      type: 'agent.status',
      agent: agentId,
      bead: a.hook_bead_id,
      payload: { from: a.status, to: status, cause: change.cause, ...(change.evidence ? { evidence: change.evidence } : {}) },
    });
  }
  store.touch('agent', agentId);
}

/** A waiting agent asked something newer (another permission, a notification): its evidence, not its status. */
export function replaceWaitingEvidence(store: Store, agentId: string, evidence: Evidence) {
  const a = requireAgent(store, agentId);
  if (a.status !== 'waiting') throw conflict(`${agentId} is ${a.status}, not waiting`, 'status');
  store.run('UPDATE agents SET status_evidence = ?, updated_at = ? WHERE id = ?', JSON.stringify(evidence), store.now(), agentId);
  store.touch('agent', agentId);
}

/** Progress (a screen change, a CLI call, a git change): the GUPP clock starts over. */
export function recordProgress(store: Store, agentId: string, at: number) {
  store.run('UPDATE agents SET last_progress_at = max(coalesce(last_progress_at, 0), ?), nudged_at = NULL, health_escalated_at = NULL WHERE id = ?', at, agentId);
  store.touch('agent', agentId);
}

/** After a thaw: a frozen agent made no progress because it was stopped, so its clock starts again now. */
export function restartProgressClocks(store: Store, at: number) {
  const live = store.all<{ id: string }>(`SELECT id FROM agents WHERE session_id IS NOT NULL AND status IN ('starting','working','waiting','stalled')`);
  for (const a of live) {
    store.run('UPDATE agents SET last_progress_at = ? WHERE id = ?', at, a.id);
    store.touch('agent', a.id);
  }
}

export function recordNudge(store: Store, agentId: string, text: string, evidence: Evidence) {
  store.run('UPDATE agents SET nudged_at = ? WHERE id = ?', store.now(), agentId);
  store.event({ type: 'agent.nudged', agent: agentId, bead: requireAgent(store, agentId).hook_bead_id, payload: { text, evidence } });
  store.touch('agent', agentId);
}

export function recordHealthEscalation(store: Store, agentId: string) {
  store.run('UPDATE agents SET health_escalated_at = ? WHERE id = ?', store.now(), agentId);
}

/**
 * The run ended without done but the agent keeps its hook and starts again at `at`
 * (a respawn after a clean exit, or a restart after a crash, counted separately).
 */
export function scheduleRestart(store: Store, agentId: string, o: { at: number; crash: boolean; evidence: Evidence }) {
  const a = requireAgent(store, agentId);
  assertTransition('agent', agentId, AGENT_TRANSITIONS, a.status, 'dead');
  const now = store.now();
  store.run(
    `UPDATE agents SET status = 'dead', status_since = ?, status_evidence = ?, token_hash = NULL, stop_reason = NULL, restart_at = ?,
       run_respawns = run_respawns + ?, run_crashes = run_crashes + ?, restarts = restarts + 1, updated_at = ? WHERE id = ?`,
    now, JSON.stringify(o.evidence), o.at, o.crash ? 0 : 1, o.crash ? 1 : 0, now, agentId,
  );
  store.event({ type: 'agent.respawn', agent: agentId, bead: a.hook_bead_id, payload: { launch: a.launch_id, cause: o.evidence.summary, after_ms: o.at - now } });
  store.touch('agent', agentId);
}

/** Clears the hook and everything bound to the finished run. */
export function releaseAgent(store: Store, agentId: string, status: 'idle' | 'dead', cause: string, evidence?: Evidence) {
  const a = requireAgent(store, agentId);
  assertTransition('agent', agentId, AGENT_TRANSITIONS, a.status, status);
  const now = store.now();
  store.run(
    `UPDATE agents SET status = ?, status_since = ?, status_evidence = ?, hook_bead_id = NULL, token_hash = NULL, done_bead_id = NULL,
       done_at = NULL, stop_reason = NULL, restart_at = NULL, restarts = restarts + ?, updated_at = ? WHERE id = ?`,
    status, now, status === 'dead' ? JSON.stringify(evidence ?? { summary: cause }) : null, status === 'dead' ? 1 : 0, now, agentId,
  );
  store.event({ type: 'agent.released', agent: agentId, bead: a.hook_bead_id, payload: { status, cause } });
  store.touch('agent', agentId);
}

/** The newest hook a runtime reported; a prompt or a tool means its turn goes on. */
export function noteRuntimeHook(store: Store, agentId: string, hook: { event: string; at: number; detail: string | null }) {
  const goesOn = hook.event === 'prompt' || hook.event === 'tool' || hook.event === 'tool_done' || hook.event === 'session_start';
  const ended = hook.event === 'turn_end' || hook.event === 'idle_prompt';
  store.run(
    `UPDATE agents SET last_hook = ?, turn_ended_at = CASE WHEN ? THEN coalesce(turn_ended_at, ?) WHEN ? THEN NULL ELSE turn_ended_at END WHERE id = ?`,
    JSON.stringify(hook), ended ? 1 : 0, hook.at, goesOn ? 1 : 0, agentId,
  );
  store.touch('agent', agentId);
}

/**
 * The runtime's own session id, kept with the bead it worked on: a restart on the same
 * bead resumes that conversation. Recorded once per session; a change is a new conversation.
 */
/** The overseer asked for a fresh start: the next launch on this bead begins a new conversation. */
export function forgetRuntimeSession(store: Store, agentId: string) {
  store.run('UPDATE agents SET runtime_session_bead = NULL WHERE id = ?', agentId);
  store.touch('agent', agentId);
}

export function recordRuntimeSession(store: Store, agent: AgentRow, session: string, runtime: string, runtimeSession: string) {
  const known = store.get<{ runtime_session: string | null }>('SELECT runtime_session FROM sessions WHERE id = ?', session)?.runtime_session;
  if (known === runtimeSession) return;
  const resumed = agent.runtime_session === runtimeSession && agent.runtime_session_bead === agent.hook_bead_id;
  store.run('UPDATE agents SET runtime_session = ?, runtime_session_bead = ? WHERE id = ?', runtimeSession, agent.hook_bead_id, agent.id);
  store.run('UPDATE sessions SET runtime = ?, runtime_session = ? WHERE id = ?', runtime, runtimeSession, session);
  store.event({ type: 'agent.runtime_session', agent: agent.id, bead: agent.hook_bead_id, payload: { session, runtime, runtime_session: runtimeSession, resumed } });
  store.touch('agent', agent.id);
}

/** A reminder to finish typed into the agent's prompt (counted per hook). */
export function recordFinishReminder(store: Store, agentId: string, text: string, evidence: Evidence) {
  store.run('UPDATE agents SET nudged_at = ?, finish_reminders = finish_reminders + 1 WHERE id = ?', store.now(), agentId);
  store.event({ type: 'agent.nudged', agent: agentId, bead: requireAgent(store, agentId).hook_bead_id, payload: { text, evidence } });
  store.touch('agent', agentId);
}
