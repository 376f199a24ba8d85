// The Backend over WebSocket, as the browser UI of `town serve` uses it. It takes the
// WebSocket constructor so tests can run it in Node with `ws`.
import type { ApiInput, ApiMethod, ApiOutput } from './api';
import type { Backend, ConnectionState, TerminalChannel, TerminalHandlers } from './backend';
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
  /** Delay before reconnecting, by attempt (ms). */
  backoff?: (attempt: number) => number;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export class WebBackend implements Backend {
  private ws: SocketLike | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private queue: string[] = [];
  private state: ConnectionState = 'connecting';
  private listeners = new Set<(s: ConnectionState) => void>();
  private feed: { onPatches(p: Patch[]): void; onReset(): void } | null = null;
  private attempt = 0;
  private closed = false;

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

  private setState(s: ConnectionState) {
    if (this.state === s) return;
    this.state = s;
    for (const l of this.listeners) l(s);
  }

  private connect() {
    const ws = this.o.socket(this.url('/api'));
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      const wasReconnect = this.state === 'reconnecting';
      this.setState('open');
      for (const frame of this.queue.splice(0)) ws.send(frame);
      if (wasReconnect && this.feed) {
        // Patches were missed while away: start the feed again and let the owner resync.
        const feed = this.feed;
        void this.subscribe().then(() => feed.onReset());
      }
    };
    ws.onmessage = (ev) => this.receive(String(ev.data));
    ws.onerror = () => {};
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const p of this.pending.values()) p.reject(new ApiError('engine_not_running', 'the connection to the town closed'));
      this.pending.clear();
      if (this.closed) return this.setState('closed');
      this.setState('reconnecting');
      const delay = (this.o.backoff ?? ((n) => Math.min(250 * 2 ** n, 5000)))(this.attempt++);
      setTimeout(() => !this.closed && this.connect(), delay);
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
      this.pending.set(id, { resolve, reject });
      if (this.ws && this.ws.readyState === OPEN) this.ws.send(frame);
      else if (this.closed) reject(new ApiError('engine_not_running', 'the connection is closed'));
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
    ws.onclose = () => {
      if (!ended) h.onEnd(this.closed ? 'closed' : 'connection lost');
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

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  close() {
    this.closed = true;
    this.ws?.close(1000);
  }
}
