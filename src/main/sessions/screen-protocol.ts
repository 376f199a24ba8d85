// Messages between the session host and its screen worker, the thread that keeps every
// session's headless xterm. Parsing output is the costliest thing the engine does during a
// flood; on its own thread it never delays PTY reads, viewers, API calls or the reconciler.
// Messages are handled in order, so a snapshot shows exactly the output written before it.

export type ToScreens =
  | { op: 'open'; id: string; cols: number; rows: number; scrollback: number }
  | { op: 'write'; id: string; data: string }
  | { op: 'resize'; id: string; cols: number; rows: number }
  /**
   * The screen (and up to `scrollback` lines of it) as of this message. With `quickLines`,
   * when the scrollback holds more: first a screen with that many lines, then, computed
   * before any later write, the whole scrollback as a `history` reply.
   */
  | { op: 'snapshot'; id: string; req: number; quickLines?: number }
  | { op: 'close'; id: string };

export type FromScreens =
  /** Characters of output the worker has parsed since its last report, per session. */
  | { op: 'parsed'; chars: Record<string, number> }
  | { op: 'screen'; req: number; screen: string; split: boolean }
  | { op: 'history'; req: number; screen: string };
