// The connection to the engine, as the overseer sees it: a plain banner while it is down,
// and every action control disabled meanwhile (what is on screen may be out of date, and
// a command sent now would reach no one).
import type { ReactNode } from 'react';
import { useTown } from '../state/town-store';

/** Connected and in step (resynced since any drop): commands may be sent. */
export function useOnline(): boolean {
  return useTown((s) => s.connection === 'open' && !s.stale);
}

/**
 * Holds action controls: a disabled fieldset disables every button, input and select inside,
 * so no view needs to remember to. It takes no room of its own (display: contents).
 */
export function ActionScope({ children }: { children: ReactNode }) {
  const online = useOnline();
  return (
    <fieldset className="action-scope" disabled={!online}>
      {children}
    </fieldset>
  );
}

export function DisconnectedBanner() {
  const connection = useTown((s) => s.connection);
  const { attempt, reason } = useTown((s) => s.link);
  const synced = useTown((s) => s.synced);
  if (connection === 'open' || connection === 'connecting') return null;
  const closed = connection === 'closed';
  return (
    <div className="disconnected" role="alert" data-attempt={attempt}>
      <strong>{closed ? 'Disconnected from the town engine.' : `Disconnected from the town engine — reconnecting… (attempt ${attempt})`}</strong>
      {reason && <span className="reason">{sentence(reason)}</span>}
      {synced && <span className="muted">Actions are off until it is back; what you see may be out of date.</span>}
    </div>
  );
}

const sentence = (text: string) => `${text[0].toUpperCase()}${text.slice(1)}${text.endsWith('.') ? '' : '.'}`;

/** Sensors of a board while offline: nothing starts a drag (a drop would send a command). */
export const NO_DRAG: never[] = [];
