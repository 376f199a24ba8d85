// The desktop app's OS notifications: an agent that starts waiting, an urgent escalation
// raised or raised again. A click brings the window forward with that agent's terminal open.
// What counts is decided in src/shared/attention.ts, the same as the browser's notifications.
import { Notification, type BrowserWindow } from 'electron';
import { AttentionTracker, attentionItems } from '../../shared/attention';
import type { Engine } from '../engine/engine';
import type { EscalationRow } from '../store/escalations';
import { agentView, escalationView, type AgentRow } from '../store/views';
import { IPC } from './ipc-channels';

export function notifyAttention(engine: Engine, window: () => BrowserWindow | null): () => void {
  const tracker = new AttentionTracker();
  // Electron drops a notification's click handler once it is garbage collected: hold them.
  const shown = new Set<Notification>();
  const look = () => {
    const { store } = engine;
    const agents = store.all<AgentRow>(`SELECT * FROM agents WHERE status = 'waiting'`).map((r) => agentView(store, r));
    const escalations = store.all<EscalationRow>(`SELECT * FROM escalations WHERE acked_at IS NULL AND severity IN ('high','critical')`).map(escalationView);
    const fresh = tracker.update(attentionItems(agents, escalations));
    if (!Notification.isSupported()) return;
    for (const alert of fresh) {
      const n = new Notification({ title: alert.title, body: alert.body });
      shown.add(n);
      n.on('close', () => shown.delete(n));
      n.on('click', () => {
        shown.delete(n);
        const w = window();
        if (!w) return;
        w.show();
        w.focus();
        if (alert.agent) w.webContents.send(IPC.openAgent, alert.agent);
      });
      n.show();
    }
  };
  look();
  return engine.store.onPatches((patches) => {
    if (patches.some((p) => p.kind === 'agent' || p.kind === 'escalation')) look();
  });
}
