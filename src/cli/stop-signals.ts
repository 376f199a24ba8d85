// How `town serve` hears that it should stop: Ctrl-C (SIGINT), a kill (SIGTERM), the
// terminal closing (SIGHUP: left at its default, the process would die on the spot with its
// agents still running and the town's lock held), and the launcher that started it going away
// (`disconnect`: its IPC channel closed, as when `npm start` is killed). The first stops
// gracefully; a second Ctrl-C while that runs forces it.

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number] | 'disconnect';

/**
 * One Ctrl-C can arrive more than once, a few ms apart: from the terminal and again from a
 * parent that passes it on (`npm start`). Signals this close to the first are that same press.
 */
export const SAME_PRESS_MS = 500;

export interface StopHandlers {
  graceful: (signal: StopSignal) => void;
  forced: (signal: StopSignal) => void;
  now?: () => number;
}

/** Routes each signal: the first → graceful, a later Ctrl-C → forced, the rest → nothing. */
export function stopSignalRouter(h: StopHandlers): (signal: StopSignal) => void {
  const now = h.now ?? Date.now;
  let firstAt: number | null = null;
  let forced = false;
  return (signal) => {
    if (firstAt === null) {
      firstAt = now();
      h.graceful(signal);
      return;
    }
    if (signal !== 'SIGINT' || forced || now() - firstAt < SAME_PRESS_MS) return;
    forced = true;
    h.forced(signal);
  };
}

/**
 * Once the terminal is gone every write to it fails (EIO, or EPIPE for a pipe), reported as an
 * 'error' event on the stream, not thrown by write; unheard, it would crash the server (in a
 * stop, half way). Installed once when serving starts: the terminal may close at any moment,
 * after another signal began the stop too.
 */
export function tolerateClosedTerminal() {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
}
