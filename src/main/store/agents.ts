// Agent writes: creation, hooking a bead, and releasing it.
import type { AgentRole, AgentStatus } from '../../shared/domain';
import { conflict, notFound } from '../../shared/errors';
import type { Store } from './store';
import { getAgent, type AgentRow } from './views';

export function requireAgent(store: Store, id: string, field = 'agent'): AgentRow {
  const a = getAgent(store, id);
  if (!a) throw notFound('agent', id, field);
  return a;
}

export function createAgent(store: Store, a: { id: string; role: AgentRole; rig: string | null; name: string; runtime: string | null; worktree: string | null }): AgentRow {
  const now = store.now();
  store.run(
    `INSERT INTO agents (id, role, rig_id, name, status, runtime, worktree, created_at, updated_at) VALUES (?, ?, ?, ?, 'idle', ?, ?, ?, ?)`,
    a.id, a.role, a.rig, a.name, a.runtime, a.worktree, now, now,
  );
  store.event({ type: 'agent.created', agent: a.id, payload: { role: a.role, rig: a.rig } });
  store.touch('agent', a.id);
  return getAgent(store, a.id)!;
}

/** Binds a bead to an agent. One agent per bead: refused if another agent holds it. */
export function hookBead(store: Store, agentId: string, beadId: string, branch: string | null) {
  const holder = store.get<{ id: string }>('SELECT id FROM agents WHERE hook_bead_id = ? AND id <> ?', beadId, agentId);
  if (holder) throw conflict(`${beadId} is already hooked by ${holder.id}`, 'bead');
  store.run(
    `UPDATE agents SET hook_bead_id = ?, branch = coalesce(?, branch), status = 'starting', done_bead_id = NULL, done_at = NULL,
       stop_reason = NULL, session_id = NULL, updated_at = ? WHERE id = ?`,
    beadId, branch, store.now(), agentId,
  );
  store.event({ type: 'agent.hooked', agent: agentId, bead: beadId, payload: {} });
  store.touch('agent', agentId);
}

/** Only the hash of a session's token is stored; the plain value goes to the PTY's env. */
export function setAgentToken(store: Store, agentId: string, tokenHash: string | null) {
  store.run('UPDATE agents SET token_hash = ? WHERE id = ?', tokenHash, agentId);
}

/** A stop was asked for; the status changes only when the session's exit is seen. */
export function markStopping(store: Store, agentId: string, reason: string) {
  store.run('UPDATE agents SET stop_reason = ? WHERE id = ?', reason, agentId);
  store.event({ type: 'agent.stopping', agent: agentId, payload: { reason } });
  store.touch('agent', agentId);
}

/** The agent reported `town done` for its hooked bead. */
export function recordDone(store: Store, agentId: string, beadId: string, status: string, summary: string | null) {
  const now = store.now();
  store.run('UPDATE agents SET done_bead_id = ?, done_at = ?, last_activity_at = ? WHERE id = ?', beadId, now, now, agentId);
  store.event({ type: 'agent.done', agent: agentId, bead: beadId, payload: { status, summary } });
  store.touch('agent', agentId);
}

export function setAgentStatus(store: Store, agentId: string, status: AgentStatus, extra: { session_id?: string | null } = {}) {
  const a = requireAgent(store, agentId);
  store.run(
    `UPDATE agents SET status = ?, session_id = ?, updated_at = ? WHERE id = ?`,
    status, extra.session_id === undefined ? a.session_id : extra.session_id, store.now(), agentId,
  );
  if (a.status !== status) store.event({ type: 'agent.status', agent: agentId, bead: a.hook_bead_id, payload: { from: a.status, to: status } });
  store.touch('agent', agentId);
}

/** Clears the hook and everything bound to the finished run. */
export function releaseAgent(store: Store, agentId: string, status: AgentStatus, cause: string) {
  const a = requireAgent(store, agentId);
  store.run(
    `UPDATE agents SET status = ?, hook_bead_id = NULL, token_hash = NULL, done_bead_id = NULL, done_at = NULL, stop_reason = NULL,
       restarts = restarts + ?, updated_at = ? WHERE id = ?`,
    status, status === 'dead' ? 1 : 0, store.now(), agentId,
  );
  store.event({ type: 'agent.released', agent: agentId, bead: a.hook_bead_id, payload: { status, cause } });
  store.touch('agent', agentId);
}
