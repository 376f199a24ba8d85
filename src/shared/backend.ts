// What the renderer needs from wherever the engine runs: typed calls, the change feed
// and terminal channels. Implemented over WebSocket (`town serve`) and over the
// Electron preload bridge; the views never know which.
import type { ApiInput, ApiMethod, ApiOutput } from './api';
import type { Patch } from './domain';
import type { ApiErrorShape } from './errors';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** What a client knows about a lost connection, for the overseer. */
export interface ConnectionDetail {
  /** Reconnection attempts so far (0 while connected). */
  attempt: number;
  /** Why the connection is down, when known ("the town engine stopped"). */
  reason: string | null;
}

/** The end reason a terminal gets when the connection, not the session, ended: it re-attaches once reconnected. */
export const CONNECTION_LOST = 'connection lost';

export interface TerminalHandlers {
  onScreen(screen: { session: string; data: string; cols: number; rows: number }): void;
  /** The whole scrollback, replacing the shortened one `onScreen` had (same moment, more lines above). */
  onHistory(data: string): void;
  /** UTF-8 bytes of the agent's output. */
  onOutput(data: Uint8Array): void;
  /** The agent's terminal changed size (some viewer resized it). */
  onResize(cols: number, rows: number): void;
  onEnd(reason: string): void;
  onError(error: ApiErrorShape): void;
}

export interface TerminalChannel {
  input(data: string): void;
  resize(cols: number, rows: number): void;
  /** Output bytes the viewer's xterm has parsed (flow control). */
  ack(chars: number): void;
  close(): void;
}

export interface Backend {
  call<M extends ApiMethod>(method: M, params: ApiInput<M>): Promise<ApiOutput<M>>;
  /**
   * Subscribes to the change feed. Resolves with the revision the feed starts after;
   * every later commit's patches reach `onPatches` in order. Re-subscribes by itself
   * after a reconnect and calls `onReset` so the caller fetches a fresh snapshot.
   */
  watchFeed(onPatches: (patches: Patch[]) => void, onReset: () => void): Promise<number>;
  openTerminal(agent: string, size: { cols: number; rows: number }, handlers: TerminalHandlers): TerminalChannel;
  /** Calls `listener` now and on every change of state or detail. */
  onConnection(listener: (state: ConnectionState, detail: ConnectionDetail) => void): () => void;
}

/** What a bridged call resolves with: errors travel as data, so their code and field survive the bridge. */
export type BridgeResult = { result: unknown } | { error: ApiErrorShape };

/** The preload bridge's shape (window.overseer in Electron): one function per API method. */
export interface OverseerBridge {
  api: Record<ApiMethod, (params: unknown) => Promise<BridgeResult>>;
  watchFeed(onPatches: (patches: Patch[]) => void): Promise<number>;
  openTerminal(
    agent: string,
    size: { cols: number; rows: number },
    onFrame: (frame: unknown) => void,
  ): { send(frame: unknown): void; close(): void };
  /** The desktop app asks the window to open an agent's terminal (an OS notification was clicked). */
  onOpenAgent?(listener: (agent: string) => void): void;
}
