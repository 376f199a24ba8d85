// The desktop app's OS notifications (what counts: engine/attention-alerts.ts). A click
// brings the window forward with that agent's terminal open.
import { Notification, type BrowserWindow } from 'electron';
import { watchAttentionAlerts } from '../engine/attention-alerts';
import type { Engine } from '../engine/engine';
import { IPC } from './ipc-channels';

export function notifyAttention(engine: Engine, window: () => BrowserWindow | null): () => void {
  // Electron drops a notification's click handler once it is garbage collected: hold them.
  const shown = new Set<Notification>();
  return watchAttentionAlerts(engine.store, (alert) => {
    if (!Notification.isSupported()) return;
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
  });
}
