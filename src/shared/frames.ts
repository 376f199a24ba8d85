// Control-socket framing: one JSON object per line, in both directions.
import { z } from 'zod';
import type { ApiErrorShape } from './errors';

export const MAX_FRAME_BYTES = 1024 * 1024;

export const requestFrame = z.object({
  id: z.number().int().min(0),
  token: z.string().min(1).max(200),
  method: z.string().min(1).max(100),
  params: z.unknown().optional(),
}).strict();
export type RequestFrame = z.infer<typeof requestFrame>;

export type ResponseFrame =
  | { id: number | null; result: unknown }
  | { id: number | null; error: ApiErrorShape };

/** Frames a client sends on a stream after it opened (attach). */
export const streamInputFrame = z.union([
  z.object({ input: z.string().max(65_536) }).strict(),
  z.object({ resize: z.object({ cols: z.number().int().min(2).max(1000), rows: z.number().int().min(2).max(1000) }).strict() }).strict(),
  z.object({ detach: z.literal(true) }).strict(),
]);

/** Frames the engine pushes on an open stream. */
export type StreamFrame =
  | { stream: 'screen'; data: string; cols: number; rows: number }
  | { stream: 'output'; data: string }
  | { stream: 'patch'; patch: unknown }
  | { stream: 'end'; reason: string };
