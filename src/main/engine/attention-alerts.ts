// What the desktop app announces as OS notifications: an agent that starts waiting, an
// urgent escalation raised or raised again. Decided in src/shared/attention.ts, the same
// as the browser's notifications; this watches the store for it. No Electron here: the
// shell passes in how to show one (shell/notifications.ts).
import { AttentionTracker, attentionItems, type AttentionAlert } from '../../shared/attention';
import type { EscalationRow } from '../store/escalations';
import type { Store } from '../store/store';
import { agentView, escalationView, type AgentRow } from '../store/views';

/** Calls `show` for each alert that is new since the first look; returns the unsubscribe. */
export function watchAttentionAlerts(store: Store, show: (alert: AttentionAlert) => void): () => void {
  const tracker = new AttentionTracker();
  const look = () => {
    const agents = store.all<AgentRow>(`SELECT * FROM agents WHERE status = 'waiting'`).map((r) => agentView(store, r));
    const escalations = store.all<EscalationRow>(`SELECT * FROM escalations WHERE acked_at IS NULL AND severity IN ('high','critical')`).map(escalationView);
    for (const alert of tracker.update(attentionItems(agents, escalations))) show(alert);
  };
  look();
  return store.onPatches((patches) => {
    if (patches.some((p) => p.kind === 'agent' || p.kind === 'escalation')) look();
  });
}
