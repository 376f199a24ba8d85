// Agent health: what the session signals mean for an agent's status. Progress (a screen
// change that is not a spinner, a CLI call, a git change) restarts the GUPP clock and
// ends `stalled`; a terminal read after quiet, or a terminal notification, is `waiting`
// (a human is needed); typing into the session answers it.
import type { Evidence } from '../../shared/events';
import { recordProgress, replaceWaitingEvidence, setAgentStatus } from '../store/agents';
import type { Store } from '../store/store';
import { getAgent } from '../store/views';

const ANSWERABLE = new Set(['working', 'stalled', 'waiting']);

export function noteAgentProgress(store: Store, agentId: string, session: string, at: number, cause: string, source?: 'screen' | 'git' | 'runtime') {
  const agent = getAgent(store, agentId);
  if (!agent || agent.session_id !== session) return;
  recordProgress(store, agentId, at);
  // A runtime that said it waits says when it goes on: its screen redrawing is not an answer.
  if (agent.status === 'waiting' && source !== 'runtime' && waitingSource(agent.status_evidence) === 'runtime') return;
  if (agent.status === 'stalled' || agent.status === 'waiting') setAgentStatus(store, agentId, 'working', { cause });
}

function waitingSource(evidence: string | null): string | undefined {
  try {
    return evidence ? (JSON.parse(evidence) as { source?: string }).source : undefined;
  } catch {
    return undefined;
  }
}

export function noteAgentWaiting(store: Store, agentId: string, session: string, evidence: Evidence) {
  const agent = getAgent(store, agentId);
  if (!agent || agent.session_id !== session || !ANSWERABLE.has(agent.status)) return;
  if (agent.status === 'waiting' && agent.status_evidence === JSON.stringify(evidence)) return;
  // A runtime's own ask (a permission dialog, with its command) outranks the terminal's guess
  // that the same screen waits: replacing it would take the Allow/Deny answer away.
  if (agent.status === 'waiting' && evidence.source !== 'runtime' && waitingSource(agent.status_evidence) === 'runtime') return;
  if (agent.status === 'waiting') replaceWaitingEvidence(store, agentId, evidence);
  else setAgentStatus(store, agentId, 'waiting', { cause: 'needs input', evidence });
}

export function noteAgentInput(store: Store, agentId: string, session: string, at: number) {
  const agent = getAgent(store, agentId);
  if (!agent || agent.session_id !== session) return;
  recordProgress(store, agentId, at);
  if (agent.status === 'waiting' || agent.status === 'stalled') setAgentStatus(store, agentId, 'working', { cause: 'answered' });
}

/** A `town` CLI call from the agent is progress too. */
export function noteAgentCliCall(store: Store, agentId: string, at: number) {
  const agent = getAgent(store, agentId);
  if (!agent?.hook_bead_id) return;
  recordProgress(store, agentId, at);
  if (agent.status === 'stalled') setAgentStatus(store, agentId, 'working', { cause: 'town CLI call' });
}

const minutes = (ms: number) => (ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/** "stalled: no screen change for 17 min; nudged at 14:02" */
export function stallEvidence(now: number, lastProgress: number, nudgedAt: number | null): Evidence {
  const parts = [`no progress (screen, CLI or git) for ${minutes(now - lastProgress)}`];
  if (nudgedAt) parts.push(`nudged at ${clock(nudgedAt)} UTC`);
  return { summary: parts.join('; '), source: 'health' };
}
