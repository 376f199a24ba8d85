// Telling the overseer without being looked at: the document title carries the count of
// problems, and (once the overseer allowed it, never asked unprompted) a browser
// notification for an agent that starts waiting or an urgent escalation. Clicking one
// brings the window forward with that agent's terminal open. In the desktop app the main
// process raises OS notifications instead (src/main/shell/notifications.ts).
import { useEffect, useState } from 'react';
import { AttentionTracker, attentionItems } from '../../../shared/attention';
import { problemsOf } from './selectors';
import { useTown } from './town-store';
import { openTerminal } from './ui-store';

/** The desktop app's window: notifications are the main process's job there. */
const inDesktopApp = () => typeof window !== 'undefined' && 'overseer' in window && !!(window as { overseer?: unknown }).overseer;
const browserCanNotify = () => !inDesktopApp() && typeof Notification !== 'undefined';

export function titleFor(count: number, town: string): string {
  return `${count > 0 ? `(${count}) ` : ''}Overseer — ${town}`;
}

export function useTitleBadge() {
  const count = useTown((s) => problemsOf(s.entities, s.status).length);
  const town = useTown((s) => s.status?.town.split('/').filter(Boolean).pop() ?? 'town');
  useEffect(() => {
    document.title = titleFor(count, town);
  }, [count, town]);
}

const tracker = new AttentionTracker();

export function useAttentionNotifications() {
  const agents = useTown((s) => s.entities.agent);
  const escalations = useTown((s) => s.entities.escalation);
  const synced = useTown((s) => s.synced);
  useEffect(() => {
    if (!synced) return;
    const fresh = tracker.update(attentionItems(agents.list(), escalations.list()));
    if (!browserCanNotify() || Notification.permission !== 'granted') return;
    for (const alert of fresh) {
      const n = new Notification(alert.title, { body: alert.body, tag: alert.key });
      n.onclick = () => {
        window.focus();
        if (alert.agent) openTerminal(alert.agent);
        n.close();
      };
    }
  }, [agents, escalations, synced]);
}

/** "Notify me": asks for permission only when clicked; says plainly when the browser refuses. */
export function useNotifyPermission(): { supported: boolean; permission: NotificationPermission | null; ask: () => void } {
  const supported = browserCanNotify();
  const [permission, setPermission] = useState<NotificationPermission | null>(supported ? Notification.permission : null);
  return {
    supported,
    permission,
    ask: () => {
      if (!supported) return;
      void Notification.requestPermission().then(setPermission, () => setPermission(Notification.permission));
    },
  };
}
