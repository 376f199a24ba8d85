// Which invariant violations are open. A violation is recorded as an event once when it is
// first seen and once when it clears, not on every tick it persists; the open set is
// rebuilt from those events after a restart, so a restart does not record it again.
import type { InvariantViolation } from '../../shared/doctor';
import type { Store } from '../store/store';

export class ViolationLedger {
  private open: Map<string, InvariantViolation> | null = null;

  /** Records what changed since the last check; returns the violations newly seen. */
  update(store: Store, found: InvariantViolation[]): { seen: InvariantViolation[]; cleared: InvariantViolation[] } {
    const open = (this.open ??= openViolations(store));
    const now = new Map(found.map((v) => [v.key, v]));
    const seen = found.filter((v) => !open.has(v.key));
    const cleared = [...open.values()].filter((v) => !now.has(v.key));
    if (seen.length === 0 && cleared.length === 0) return { seen, cleared };
    store.transaction(() => {
      for (const v of seen) store.event({ type: 'invariant.violated', agent: v.agent ?? null, bead: v.bead ?? null, payload: { invariant: v.invariant, key: v.key, message: v.message } });
      for (const v of cleared) store.event({ type: 'invariant.cleared', agent: v.agent ?? null, bead: v.bead ?? null, payload: { invariant: v.invariant, key: v.key, message: v.message } });
    });
    this.open = now;
    return { seen, cleared };
  }
}

function openViolations(store: Store): Map<string, InvariantViolation> {
  const open = new Map<string, InvariantViolation>();
  for (const e of store.all<{ type: string; agent_id: string | null; bead_id: string | null; payload: string }>(
    `SELECT type, agent_id, bead_id, payload FROM events WHERE type IN ('invariant.violated','invariant.cleared') ORDER BY seq`,
  )) {
    const p = JSON.parse(e.payload) as { invariant: number; key: string; message: string };
    if (e.type === 'invariant.cleared') open.delete(p.key);
    else open.set(p.key, { ...p, ...(e.agent_id ? { agent: e.agent_id } : {}), ...(e.bead_id ? { bead: e.bead_id } : {}) });
  }
  return open;
}
