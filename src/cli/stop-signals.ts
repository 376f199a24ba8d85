// How `town serve` hears that it should stop: Ctrl-C (SIGINT), a kill (SIGTERM), and the
// terminal closing (SIGHUP: left at its default, the process would die on the spot with its
// agents still running and the town's lock held).

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/**
 * Once the terminal is gone every write to it fails (EIO) and an unheard 'error' would crash
 * the stop half way; the stop must finish all the same.
 */
export function tolerateClosedTerminal() {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
}
