// Frames of the UI transports (WebSocket in `town serve`, MessagePorts in Electron).
// Two channels per client, so a flooding terminal never delays commands or patches:
//  - the API channel: calls and their answers, plus the change feed once watched;
//  - one terminal channel per attached session: screen, output, acks, input.
import { z } from 'zod';
import type { Patch } from './domain';
import type { ApiErrorShape } from './errors';

export const MAX_UI_FRAME_BYTES = 1024 * 1024;

/** API channel, client → engine. The token was checked when the channel opened. */
export const uiRequestFrame = z.object({
  id: z.number().int().min(0),
  method: z.string().min(1).max(100),
  params: z.unknown().optional(),
}).strict();
export type UiRequestFrame = z.infer<typeof uiRequestFrame>;

/** API channel, engine → client. */
export type UiServerFrame =
  | { id: number; result: unknown }
  | { id: number | null; error: ApiErrorShape }
  | { feed: Patch[] };

/** Terminal channel, client → engine. `ack` counts output bytes the viewer's xterm has parsed. */
export const terminalClientFrame = z.union([
  z.object({ input: z.string().min(1).max(65_536) }).strict(),
  z.object({ resize: z.object({ cols: z.number().int().min(2).max(1000), rows: z.number().int().min(2).max(1000) }).strict() }).strict(),
  z.object({ ack: z.number().int().min(0).max(1 << 30) }).strict(),
]);
export type TerminalClientFrame = z.infer<typeof terminalClientFrame>;

/** What a window sends to open a terminal over IPC (the web host reads the same from its URL). */
export const terminalOpenRequest = z.object({
  id: z.number().int().min(0),
  agent: z.string().min(1).max(200),
  cols: z.number().int().min(2).max(1000).optional(),
  rows: z.number().int().min(2).max(1000).optional(),
}).strict();

/**
 * Terminal channel, engine → client. Output is UTF-8 bytes, which xterm parses as they
 * are: on a WebSocket it travels as a binary message (every other frame is JSON text),
 * on a MessagePort as a Uint8Array. No JSON escaping or string decoding on the hot path.
 */
export type TerminalServerFrame =
  | { t: 'screen'; session: string; data: string; cols: number; rows: number }
  /** Follows `screen` when that held only the last QUICK_SCROLLBACK_LINES: the whole scrollback and screen at the same moment. */
  | { t: 'history'; data: string }
  | { t: 'output'; data: Uint8Array }
  | { t: 'resize'; cols: number; rows: number }
  | { t: 'end'; reason: string }
  | { t: 'error'; error: ApiErrorShape };

/**
 * Scrollback lines sent with the first screen of an attach, so it shows at once; a longer
 * scrollback follows in one `history` frame, which the viewer swaps in when parsed.
 */
export const QUICK_SCROLLBACK_LINES = 500;
/** How long the engine gathers PTY output before sending one frame to a viewer. */
export const OUTPUT_BATCH_MS = 5;
/** A frame is sent at once when this many characters are gathered, even to a busy viewer. */
export const OUTPUT_BATCH_CHARS = 512 * 1024;
/** Output frames a viewer may have unacked before further output waits for its acks. */
export const FRAMES_IN_FLIGHT = 4;
