// Messages between the session host and its screen worker, the thread that keeps every
// session's headless xterm. Parsing output is the costliest thing the engine does during a
// flood; on its own thread it never delays PTY reads, viewers, API calls or the reconciler.
// Messages are handled in order, so a snapshot shows exactly the output written before it.
import type { NotificationSource } from './screen-signals';

export type ToScreens =
  | { op: 'open'; id: string; cols: number; rows: number; scrollback: number }
  /** With `replay`: output already seen by a worker that had to be restarted (raises no signals). */
  | { op: 'write'; id: string; data: string; replay?: boolean }
  | { op: 'resize'; id: string; cols: number; rows: number }
  /**
   * The screen (and up to `scrollback` lines of it) as of this message. With `quickLines`,
   * when the scrollback holds more: first a screen with that many lines, then, computed
   * before any later write, the whole scrollback as a `history` reply.
   */
  | { op: 'snapshot'; id: string; req: number; quickLines?: number }
  /** The last `n` non-empty lines of the screen as plain text, as of this message. */
  | { op: 'lines'; id: string; req: number; n: number }
  | { op: 'close'; id: string };

export type FromScreens =
  /** Characters of output the worker has parsed since its last report, per session. */
  | { op: 'parsed'; chars: Record<string, number> }
  | { op: 'screen'; req: number; screen: string; split: boolean }
  | { op: 'history'; req: number; screen: string }
  | { op: 'lines'; req: number; lines: string[]; beforeCursor: string }
  /** The visible screen changed beyond spinners and timers (at most once a second per session). */
  | { op: 'progress'; id: string; lastLines: string[] }
  /** The program asked the terminal for attention: a bell, or an OSC 9 / 99 / 777 notification. */
  | { op: 'notification'; id: string; source: NotificationSource; text: string; lastLines: string[] };
