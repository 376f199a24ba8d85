// What `town doctor` reports: the invariants' state, the reconciler's recent ticks, and
// each agent's health with the evidence it was judged on.
import type { AgentEvidence, AgentRole, AgentStatus } from './domain';

export interface InvariantViolation {
  /** The number of the invariant in domain.md ("Invariants"). */
  invariant: number;
  /** Stable while the same thing stays wrong: a violation is recorded once until it clears. */
  key: string;
  message: string;
  bead?: string;
  agent?: string;
}

/** One reconciler pass. */
export interface TickMetrics {
  /** When the pass started (ISO). */
  at: string;
  events: number;
  poisoned: number;
  /** Actions applied, by type. */
  actions: Record<string, number>;
  /** Side effects launched by this pass and how they ended (pending = still running). */
  effects: { ok: number; failed: number; pending: number };
  violations: number;
  rule_errors: number;
  ms: number;
}

export interface TickSummary {
  count: number;
  p50_ms: number;
  max_ms: number;
  events: number;
  actions: Record<string, number>;
  effects_ok: number;
  effects_failed: number;
  /** The newest passes, oldest first. */
  recent: TickMetrics[];
}

export interface AgentHealth {
  id: string;
  name: string;
  role: AgentRole;
  status: AgentStatus;
  since: string | null;
  hook: string | null;
  evidence: AgentEvidence | null;
  last_progress_at: string | null;
  /** The newest recorded progress and what it was (screen, git). */
  last_progress: { at: string; source: string; summary: string } | null;
  nudged_at: string | null;
}

/** Invariant 7: a target branch moved outside the refinery, not yet acked (its escalation). */
export interface TargetMoveReport {
  escalation: string;
  severity: string;
  reason: string;
  summary: string;
  details: string[];
  at: string;
}

/** A real agent CLI on this machine: where, which version, or why it cannot run. */
export interface RuntimeReport {
  runtime: string;
  path: string | null;
  source: string | null;
  version: string | null;
  problem: string | null;
  /** Rigs that run on it. */
  rigs: string[];
}

export interface DoctorReport {
  runtimes: RuntimeReport[];
  invariants: { violations: InvariantViolation[]; target_moves: TargetMoveReport[] };
  ticks: TickSummary;
  agents: AgentHealth[];
}
