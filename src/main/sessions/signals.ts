// What the session host tells the engine about a session's attention: progress on its
// screen, a notification the program raised, input typed into it; and, when asked, the
// evidence that it waits for a human. The engine turns these into agent states.
import type { NotificationSource } from './screen-signals';
import type { TerminalReadHow } from './terminal-wait';

export type { NotificationSource } from './screen-signals';
export type { TerminalReadHow } from './terminal-wait';

export type SessionSignal =
  /** The visible screen changed beyond spinners and timers (at most about once a second). */
  | { kind: 'screen_progress'; sessionId: string; at: number; lastLines: string[] }
  /** The program asked the terminal for attention (BEL, OSC 9 / 99 / 777); `text` is empty for a bell. */
  | { kind: 'notification'; sessionId: string; at: number; source: NotificationSource; text: string; lastLines: string[] }
  /** Someone typed into the session (a viewer or the API); terminal replies such as focus or cursor reports do not count. */
  | { kind: 'input'; sessionId: string; at: number };

export interface WaitingEvidence {
  /** How long the session has printed nothing. */
  quietMs: number;
  /** The foreground process blocked reading the terminal. */
  process: { pid: number; name: string };
  how: TerminalReadHow;
  /** The screen's last non-empty lines, oldest first, as the user sees them. */
  lastLines: string[];
  /**
   * The text before the cursor on its row: a question (`Proceed? [y/N] `) when the program
   * put its prompt there, empty when the cursor sits at the start of a fresh line.
   */
  beforeCursor: string;
  /** For the overseer: `no output for 12 s, node is reading the terminal, last line "Proceed? [y/N]"`. */
  summary: string;
}

/** `12 s`, `17 min`, `2 h 5 min`. */
export function formatQuiet(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ''}`;
}

export function waitingSummary(quietMs: number, processName: string, lastLines: string[]): string {
  const last = lastLines.at(-1)?.trim();
  const screen = last ? `last line "${last.length > 120 ? `${last.slice(0, 119)}…` : last}"` : 'the screen is empty';
  return `no output for ${formatQuiet(quietMs)}, ${processName} is reading the terminal, ${screen}`;
}

// Replies a terminal (xterm.js in a viewer) sends by itself: cursor position and status
// reports, device attributes, mode reports, window reports, kitty keyboard flags, focus
// in/out, mouse reports, and any OSC or DCS string (colour and capability answers).
// People do not type these; they must not count as an answer.
// eslint-disable-next-line no-control-regex
const TERMINAL_REPORT = /\x1b\[\d+;\d+R|\x1b\[[?>=]?[\d;]*c|\x1b\[\d*n|\x1b\[\??[\d;]*\$y|\x1b\[[\d;]+t|\x1b\[\?\d*u|\x1b\[[IO]|\x1b\[<[\d;]+[Mm]|\x1b\[M[\s\S]{3}|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1bP[\s\S]*?\x1b\\/g;

/** True when `data` holds something a person typed, not only the terminal's own replies. */
export function isHumanInput(data: string): boolean {
  return data.replace(TERMINAL_REPORT, '') !== '';
}
