// The Backend over WebSocket, as the browser UI of `town serve` uses it. It takes the
// WebSocket constructor so tests can run it in Node with `ws`.
import type { ApiInput, ApiMethod, ApiOutput } from './api';
import { CONNECTION_LOST, type Backend, type ConnectionDetail, type ConnectionState, type TerminalChannel, type TerminalHandlers } from './backend';
import type { Patch } from './domain';
import { ApiError } from './errors';
import type { TerminalServerFrame, UiServerFrame } from './web-protocol';

/** The subset of the WebSocket API used here (browser WebSocket and `ws` both have it). */
export interface SocketLike {
  readyState: number;
  /** Binary messages arrive as ArrayBuffers. */
  binaryType: string;
  send(data: string): void;
  close(code?: number): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

const OPEN = 1;

export interface WebBackendOptions {
  /** ws://host:port (no path). */
  baseUrl: string;
  /** Sent as a query parameter; browsers may rely on the cookie instead. */
  token?: string;
  socket: SocketFactory;
  /** Delay before reconnection attempt n (from 1), in ms. */
  backoff?: (attempt: number) => number;
  /** Asked when a connection fails without a reason: why the engine cannot be reached, if it can tell. */
  diagnose?: () => Promise<string | null>;
}

/** 0.5 s, 1 s, 2 s, 4 s, then every 5 s: quick after a restart, quiet during a long outage. */
export const reconnectDelay = (attempt: number) => Math.min(500 * 2 ** Math.max(0, attempt - 1), 5000);

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export class WebBackend implements Backend {
  private ws: SocketLike | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  /** Calls made before the first connection opens; sent when it does. */
  private queue: string[] = [];
  private state: ConnectionState = 'connecting';
  private detail: ConnectionDetail = { attempt: 0, reason: null };
  /** The reason the engine gave when it closed this outage's connection (it outranks a guess). */
  private stated: string | null = null;
  private listeners = new Set<(s: ConnectionState, d: ConnectionDetail) => void>();
  private feed: { onPatches(p: Patch[]): void; onReset(): void } | null = null;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly o: WebBackendOptions) {
    this.connect();
  }

  private url(path: string, query: Record<string, string | number> = {}): string {
    const q = new URLSearchParams();
    if (this.o.token) q.set('token', this.o.token);
    for (const [k, v] of Object.entries(query)) q.set(k, String(v));
    const s = q.toString();
    return `${this.o.baseUrl}${path}${s ? `?${s}` : ''}`;
  }

  private publish(state: ConnectionState, detail: Partial<ConnectionDetail> = {}) {
    const next = { ...this.detail, ...detail };
    if (this.state === state && next.attempt === this.detail.attempt && next.reason === this.detail.reason) return;
    this.state = state;
    this.detail = next;
    for (const l of this.listeners) l(state, next);
  }

  private connect() {
    this.retry = null;
    const ws = this.o.socket(this.url('/api'));
    this.ws = ws;
    ws.onopen = () => {
      const wasReconnect = this.detail.attempt > 0;
      this.stated = null;
      this.publish('open', { attempt: 0, reason: null });
      for (const frame of this.queue.splice(0)) ws.send(frame);
      if (wasReconnect && this.feed) {
        // Patches were missed while away (and a restarted engine counts revisions anew):
        // watch the feed again and let the owner resync from a snapshot. Nothing is replayed.
        const feed = this.feed;
        void this.subscribe().then(() => feed.onReset(), () => {});
      }
    };
    ws.onmessage = (ev) => this.receive(String(ev.data));
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const p of this.pending.values()) p.reject(new ApiError('engine_not_running', 'the connection to the town engine was lost'));
      this.pending.clear();
      this.queue = [];
      if (this.closed) return this.publish('closed');
      const said = (ev as { reason?: unknown } | null)?.reason;
      if (typeof said === 'string' && said) this.stated = said;
      const attempt = this.detail.attempt + 1;
      this.publish('reconnecting', { attempt, reason: this.stated ?? this.detail.reason });
      if (!this.stated && this.o.diagnose) {
        void this.o.diagnose().then(
          (reason) => reason && this.state === 'reconnecting' && !this.stated && this.publish('reconnecting', { reason }),
          () => {},
        );
      }
      this.retry = setTimeout(() => !this.closed && this.connect(), (this.o.backoff ?? reconnectDelay)(attempt));
    };
  }

  private receive(text: string) {
    let frame: UiServerFrame;
    try {
      frame = JSON.parse(text) as UiServerFrame;
    } catch {
      return;
    }
    if ('feed' in frame) {
      this.feed?.onPatches(frame.feed);
      return;
    }
    if (frame.id === null) return;
    const p = this.pending.get(frame.id);
    if (!p) return;
    this.pending.delete(frame.id);
    if ('error' in frame) p.reject(ApiError.from(frame.error));
    else p.resolve(frame.result);
  }

  private send(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    const frame = JSON.stringify({ id, method, params });
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new ApiError('engine_not_running', 'the connection is closed'));
      // While reconnecting a call fails at once: kept for later, it would act on a town the
      // overseer has not seen since (and every status poll would pile up).
      if (this.state === 'reconnecting') return reject(new ApiError('engine_not_running', 'not connected to the town engine; reconnecting'));
      this.pending.set(id, { resolve, reject });
      if (this.ws && this.ws.readyState === OPEN) this.ws.send(frame);
      else this.queue.push(frame);
    });
  }

  call<M extends ApiMethod>(method: M, params: ApiInput<M>): Promise<ApiOutput<M>> {
    return this.send(method, params) as Promise<ApiOutput<M>>;
  }

  private async subscribe(): Promise<number> {
    const r = (await this.send('feed.watch', {})) as { revision: number };
    return r.revision;
  }

  watchFeed(onPatches: (patches: Patch[]) => void, onReset: () => void): Promise<number> {
    this.feed = { onPatches, onReset };
    return this.subscribe();
  }

  openTerminal(agent: string, size: { cols: number; rows: number }, h: TerminalHandlers): TerminalChannel {
    const ws = this.o.socket(this.url('/terminal', { agent, cols: size.cols, rows: size.rows }));
    ws.binaryType = 'arraybuffer';
    const early: string[] = [];
    let ended = false;
    ws.onopen = () => {
      for (const f of early.splice(0)) ws.send(f);
    };
    ws.onmessage = (ev) => {
      // Output is the only binary frame.
      if (typeof ev.data !== 'string') return h.onOutput(new Uint8Array(ev.data as ArrayBuffer));
      const f = JSON.parse(ev.data) as TerminalServerFrame;
      if (f.t === 'output') h.onOutput(f.data);
      else if (f.t === 'screen') h.onScreen(f);
      else if (f.t === 'history') h.onHistory(f.data);
      else if (f.t === 'resize') h.onResize(f.cols, f.rows);
      else if (f.t === 'error') h.onError(f.error);
      else if (f.t === 'end') {
        ended = true;
        h.onEnd(f.reason);
      }
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      // The engine closes a terminal cleanly (1000) when it is done with it; anything else
      // is the connection dropping, and the viewer re-attaches once it is back.
      const clean = (ev as { code?: unknown } | null)?.code === 1000;
      if (!ended) h.onEnd(this.closed || clean ? 'closed' : CONNECTION_LOST);
      ended = true;
    };
    const send = (frame: unknown) => {
      const text = JSON.stringify(frame);
      if (ws.readyState === OPEN) ws.send(text);
      else if (ws.readyState === 0) early.push(text);
    };
    return {
      input: (data) => send({ input: data }),
      resize: (cols, rows) => send({ resize: { cols, rows } }),
      ack: (chars) => chars > 0 && send({ ack: chars }),
      close: () => {
        ended = true;
        ws.close(1000);
      },
    };
  }

  onConnection(listener: (state: ConnectionState, detail: ConnectionDetail) => void): () => void {
    this.listeners.add(listener);
    listener(this.state, this.detail);
    return () => this.listeners.delete(listener);
  }

  close() {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.ws) this.ws.close(1000);
    else this.publish('closed');
  }
}
