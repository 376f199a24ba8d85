// `town doctor`: the invariants as the last tick found them, the reconciler's recent
// ticks, and each agent's health with the evidence it was judged on.
import type { AgentHealth, TargetMoveReport } from '../../shared/doctor';
import { AGENT_CLIS, type AgentEvidence } from '../../shared/domain';
import { readConfig } from '../reconciler/config';
import { findRuntimeCli } from '../runtimes/runtime-cli';
import type { Store } from '../store/store';
import { isoOrNull, type AgentRow } from '../store/views';
import type { Handlers } from './context';


/** The newest progress recorded for the agent's run, and what it was. */
function lastProgress(store: Store, a: AgentRow): AgentHealth['last_progress'] {
  if (!a.hook_bead_id) return null;
  const e = store.get<{ created_at: number; payload: string }>(
    `SELECT created_at, payload FROM events WHERE bead_id = ? AND agent_id = ? AND type = 'session.progress' ORDER BY seq DESC LIMIT 1`,
    a.hook_bead_id, a.id,
  );
  if (!e) return null;
  const p = JSON.parse(e.payload) as { source?: string; summary?: string; last_lines?: string[] };
  const source = p.source ?? 'screen';
  const summary = p.summary ?? (p.last_lines?.length ? `screen changed; last line "${p.last_lines.at(-1)}"` : 'screen changed');
  return { at: new Date(e.created_at).toISOString(), source, summary };
}

export function agentHealth(store: Store): AgentHealth[] {
  return store.all<AgentRow>('SELECT * FROM agents ORDER BY id').map((a) => ({
    id: a.id,
    name: a.name,
    role: a.role,
    status: a.status,
    since: isoOrNull(a.status_since),
    hook: a.hook_bead_id,
    evidence: a.status_evidence ? (JSON.parse(a.status_evidence) as AgentEvidence) : null,
    last_progress_at: isoOrNull(a.last_progress_at),
    last_progress: lastProgress(store, a),
    nudged_at: isoOrNull(a.nudged_at),
  }));
}

/** Outside moves of target branches (invariant 7) the overseer has not acked. */
function targetMoves(store: Store): TargetMoveReport[] {
  return store
    .all<{ id: string; severity: string; reason: string; evidence: string; last_raised_at: number }>(
      `SELECT id, severity, reason, evidence, last_raised_at FROM escalations
       WHERE acked_at IS NULL AND json_extract(evidence, '$.source') = 'target-watch' ORDER BY created_at`,
    )
    .map((e) => {
      const ev = JSON.parse(e.evidence) as { summary?: string; last_lines?: string[] };
      return { escalation: e.id, severity: e.severity, reason: e.reason, summary: ev.summary ?? e.reason, details: ev.last_lines ?? [], at: new Date(e.last_raised_at).toISOString() };
    });
}

export const doctorHandlers: Handlers<'town.doctor'> = {
  'town.doctor': async (ctx) => {
    const m = ctx.reconcilerMetrics();
    const config = readConfig(ctx.store);
    const runtimes = await Promise.all(
      AGENT_CLIS.map(async (runtime) => ({
        ...(await findRuntimeCli(runtime, config[`runtimes.${runtime}_path`])),
        rigs: ctx.store.all<{ id: string }>('SELECT id FROM rigs WHERE runtime = ? ORDER BY id', runtime).map((r) => r.id),
      })),
    );
    return {
      runtimes,
      invariants: { violations: m.violations, target_moves: targetMoves(ctx.store) },
      ticks: m.recent.summary(),
      agents: agentHealth(ctx.store),
    };
  },
};
