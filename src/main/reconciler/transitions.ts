// State transitions shared by event handlers, actions and commands. Each runs inside
// the caller's transaction.
import { refundDispatchAttempt, setBeadStatus } from '../store/beads';
import { escalate } from '../store/mail';
import type { Store } from '../store/store';
import { getBead } from '../store/views';
import type { TownConfig } from './config';

/**
 * A run ended without `done`: the bead goes back to open for another attempt, or to
 * failed once the attempt cap is reached (attempts live on the bead, never the agent).
 */
export function returnBeadAfterFailedRun(store: Store, beadId: string, config: TownConfig, cause: string) {
  const bead = getBead(store, beadId);
  if (!bead || bead.status !== 'in_progress') return;
  if (bead.dispatch_attempts >= config.dispatch_max_attempts) {
    setBeadStatus(store, beadId, { status: 'failed', assignee: null, reason: `gave up after ${bead.dispatch_attempts} attempts (${cause})`, cause });
    escalate(store, {
      bead: beadId,
      agent: bead.assignee,
      reason: 'dispatch attempts exhausted',
      body: `${beadId} "${bead.title}" failed ${bead.dispatch_attempts} times; last: ${cause}. Reopen it when fixed.`,
    });
  } else {
    setBeadStatus(store, beadId, { status: 'open', assignee: null, cause });
  }
}

/** The run was interrupted by the overseer or a shutdown: not the bead's fault, so it gets its attempt back. */
export function returnBeadAfterInterruption(store: Store, beadId: string, cause: string) {
  const bead = getBead(store, beadId);
  if (!bead || bead.status !== 'in_progress') return;
  refundDispatchAttempt(store, beadId, { clearBackoff: true });
  setBeadStatus(store, beadId, { status: 'open', assignee: null, cause });
}
