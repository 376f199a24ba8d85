// E-stop and thaw. Frozen = dispatch paused (the reconciler reads the `town_frozen` setting)
// and every live session's process group SIGSTOPped, agents and gates alike. The setting
// survives a restart: startup recovery kills the old processes anyway, and dispatch stays
// paused until the overseer thaws the town.
import type { FreezeReport, FrozenView } from '../../shared/domain';
import type { GroupSignalResult, SessionHost } from '../sessions/session-host';
import { restartProgressClocks } from '../store/agents';
import type { Store } from '../store/store';
import { FROZEN_SETTING, frozenState } from '../store/town-frozen';

function report(frozen: FrozenView | null, results: GroupSignalResult[]): FreezeReport {
  return {
    frozen,
    sessions: results.length,
    failed: results.filter((r) => r.error !== null).map((r) => ({ session: r.sessionId, agent: r.agentId, error: r.error! })),
  };
}

/**
 * Freezes the town. The setting is written first, so no tick dispatches between the signals
 * and the record; a second e-stop signals again (a session that slipped through is caught)
 * and keeps the first one's time.
 */
export function freezeTown(store: Store, host: SessionHost, reason: string): FreezeReport {
  const frozen: FrozenView = frozenState(store) ?? { reason, since: new Date(store.now()).toISOString() };
  store.transaction(() => store.setSetting(FROZEN_SETTING, frozen));
  const r = report(frozen, host.freeze());
  store.transaction(() => store.event({ type: 'town.frozen', payload: { reason, sessions: r.sessions, failed: r.failed } }));
  return r;
}

/**
 * Thaws the town: SIGCONT first, then the progress clocks of live agents start again (a
 * long freeze must not make every agent look stalled), then dispatch resumes.
 */
export function thawTown(store: Store, host: SessionHost): FreezeReport {
  const was = frozenState(store);
  const r = report(null, host.thaw());
  store.transaction(() => {
    restartProgressClocks(store, store.now());
    store.setSetting(FROZEN_SETTING, null);
    store.event({ type: 'town.thawed', payload: { frozen_since: was?.since ?? '', sessions: r.sessions, failed: r.failed }, pending: true });
  });
  return r;
}
