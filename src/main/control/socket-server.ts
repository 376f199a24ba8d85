// The control socket: a Unix domain socket in the town dir (0600), newline-delimited JSON.
// Every frame carries a token; every input is validated; a bad frame gets a typed error
// and the connection (and the engine) keep serving. What one connection can make the
// engine hold is bounded (CONNECTION_LIMITS): a peer that never reads is not read either.
import fs from 'node:fs';
import net from 'node:net';
import { isStreamMethod, streams, type Caller } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import { MAX_FRAME_BYTES, requestFrame, streamInputFrame, type ResponseFrame, type StreamFrame } from '../../shared/frames';
import { fieldOf, parseFrame, type ApiDispatcher } from '../api/dispatcher';
import type { ScreenView } from '../sessions/session-host';
import { LineReader } from './line-reader';

/** What a stream needs from the engine. */
export interface StreamHost {
  attach(
    caller: Caller,
    params: { agent: string; cols?: number; rows?: number; quickLines?: number },
    out: {
      data(d: string): void;
      end(reason: string): void;
      backlog(): number;
      resized?(cols: number, rows: number): void;
      /** See Viewer.onStalled: no more output until `resync`. */
      stalled?(): void;
    },
  ): Promise<
    ScreenView & {
      session: string;
      input(d: string): void;
      resize(c: number, r: number): void;
      detach(): void;
      /** After `stalled`: a fresh screen, which live output follows. */
      resync(quickLines?: number): Promise<ScreenView>;
    }
  >;
  watch(after: number | undefined, push: (patch: unknown) => void): { revision: number; stop(): void };
}

/** What one connection may make the engine hold. */
export const CONNECTION_LIMITS = {
  /** Stop reading a connection's requests while this much of its answers is unsent. */
  pauseReadingAboveBytes: 1024 * 1024,
  /** Drop a connection whose unsent output passes this: its peer is not reading. */
  maxUnsentBytes: 8 * 1024 * 1024,
  /** Requests of one connection handled at once; later ones wait, and reading pauses. */
  requestsInFlight: 8,
  /** Bad frames a connection that never authenticated may send before it is closed. */
  errorsBeforeAuth: 20,
};

type Send = (frame: ResponseFrame | StreamFrame) => void;
/** Turns the connection into a stream: later lines are its input. */
type BecomeStream = (stream: { input(line: string): void; close(): void }) => void;

export class ControlServer {
  private server: net.Server | null = null;
  private sockets = new Set<net.Socket>();

  constructor(
    private readonly socketPath: string,
    private readonly dispatcher: ApiDispatcher,
    private readonly streamsHost: StreamHost,
    private readonly log: (line: string) => void = () => {},
  ) {}

  async listen(): Promise<void> {
    if (fs.existsSync(this.socketPath)) {
      // A socket left by a crashed run (the town lock says nobody serves it now).
      fs.rmSync(this.socketPath, { force: true });
    }
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    const previous = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.socketPath, () => resolve());
      });
    } finally {
      process.umask(previous);
    }
    fs.chmodSync(this.socketPath, 0o600);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }

  private accept(socket: net.Socket) {
    this.sockets.add(socket);
    socket.setEncoding('utf8');
    const limits = CONNECTION_LIMITS;
    /** Lines read and not yet handled (at most what one read brought: reading pauses meanwhile). */
    let queue: string[] = [];
    let head = 0;
    let inFlight = 0;
    /** A stream is being opened: lines after its request wait, as they may be its input. */
    let opening = false;
    let stream: { input(line: string): void; close(): void } | null = null;
    let waitingForDrain = false;
    let authenticated = false;
    let errors = 0;
    let closing = false;

    const drop = (why: string) => {
      if (socket.destroyed) return;
      this.log(`control socket: dropped a connection: ${why}`);
      socket.destroy();
    };
    const send: Send = (frame) => {
      if (socket.destroyed || socket.writableEnded || closing) return;
      if (socket.writableLength > limits.maxUnsentBytes) return drop(`its peer left ${socket.writableLength} bytes unread`);
      socket.write(JSON.stringify(frame) + '\n');
      // Stream output has its own flow control (the session host's); requests wait for the peer.
      if (!stream && !waitingForDrain && socket.writableLength > limits.pauseReadingAboveBytes) {
        waitingForDrain = true;
        socket.once('drain', () => {
          waitingForDrain = false;
          pump();
        });
      }
    };
    const fail = (id: number | null, err: ApiError) => {
      if (closing) return;
      send({ id, error: err.toJSON() });
      if (authenticated || ++errors < limits.errorsBeforeAuth) return;
      this.log(`control socket: closed a connection after ${errors} bad frames without a valid token`);
      closing = true;
      socket.pause();
      socket.end();
      // A peer that does not read would keep the half-closed socket open.
      socket.setTimeout(2000, () => socket.destroy());
    };
    const pump = () => {
      while (head < queue.length && !closing) {
        if (stream) {
          stream.input(queue[head++]);
          continue;
        }
        if (opening || waitingForDrain || inFlight >= limits.requestsInFlight) break;
        const line = queue[head++];
        inFlight++;
        void this.handleRequest(line, socket, send, fail, {
          authenticated: () => (authenticated = true),
          opening: (on) => (opening = on),
          becomeStream: (s) => (stream = s),
        }).finally(() => {
          inFlight--;
          pump();
        });
      }
      if (head === queue.length) {
        queue = [];
        head = 0;
      }
      // Read on only while this connection's requests keep up (a stream reads its input always).
      if (closing) return;
      if (!stream && (head < queue.length || waitingForDrain)) socket.pause();
      else socket.resume();
    };

    const reader = new LineReader(
      MAX_FRAME_BYTES,
      (line) => {
        if (!closing) queue.push(line);
      },
      () => fail(null, new ApiError('bad_frame', `frame larger than ${MAX_FRAME_BYTES} bytes`)),
    );
    socket.on('data', (d: string) => {
      reader.push(d);
      pump();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.sockets.delete(socket);
      closing = true;
      (stream as { close(): void } | null)?.close();
    });
  }

  private async handleRequest(
    line: string,
    socket: net.Socket,
    send: Send,
    fail: (id: number | null, err: ApiError) => void,
    conn: { authenticated(): void; opening(on: boolean): void; becomeStream: BecomeStream },
  ) {
    const frame = parseFrame(line, requestFrame);
    if ('error' in frame) return fail(frame.id, frame.error);
    const { id, method, params, token } = frame.frame;
    try {
      const caller = this.dispatcher.authenticate(token);
      conn.authenticated();
      if (isStreamMethod(method)) {
        conn.opening(true);
        try {
          return await this.openStream(id, caller, method, params, socket, send, conn.becomeStream);
        } finally {
          conn.opening(false);
        }
      }
      const result = await this.dispatcher.dispatch(caller, method, params);
      send({ id: id, result });
    } catch (err) {
      if (err instanceof ApiError) return fail(id, err);
      this.log(`control socket: ${(err as Error).stack ?? err}`);
      fail(id, new ApiError('internal', (err as Error).message));
    }
  }

  private async openStream(
    id: number,
    caller: Caller,
    method: 'session.attach' | 'feed.watch',
    params: unknown,
    socket: net.Socket,
    send: Send,
    becomeStream: BecomeStream,
  ) {
    if (streams[method].access === 'overseer' && caller.kind !== 'overseer') throw new ApiError('forbidden', `${method} is for the overseer`);
    const parsed = streams[method].input.safeParse(params ?? {});
    if (!parsed.success) {
      const { field, message } = fieldOf(parsed.error);
      throw new ApiError('invalid_input', message, field);
    }
    if (method === 'feed.watch') {
      const p = parsed.data as { after?: number };
      // A watcher that does not read is dropped at maxUnsentBytes (send); it can watch again `after` its last revision.
      const w = this.streamsHost.watch(p.after, (patch) => send({ stream: 'patch', patch }));
      send({ id, result: { revision: w.revision } });
      becomeStream({ input: () => {}, close: () => w.stop() });
      return;
    }
    await this.attachStream(id, caller, parsed.data as { agent: string; cols?: number; rows?: number }, socket, send, becomeStream);
  }

  /**
   * `session.attach`: the screen, then live output, paced by the session host while the
   * peer reads. A peer that stops reading is dropped from that pacing (it stalls no agent);
   * once it has read what it had, it gets a fresh screen and live output again.
   */
  private async attachStream(
    id: number,
    caller: Caller,
    p: { agent: string; cols?: number; rows?: number },
    socket: net.Socket,
    send: Send,
    becomeStream: BecomeStream,
  ) {
    let ended = false;
    /** Until a screen has gone out, output waits here (it follows the screen). */
    let held: string[] | null = [];
    let endWhileHolding: string | null = null;
    const finish = (reason: string) => {
      send({ stream: 'end', reason });
      socket.end();
    };
    const showScreen = (view: ScreenView) => {
      send({ stream: 'screen', data: view.screen, cols: view.cols, rows: view.rows });
      const waiting = held ?? [];
      held = null;
      for (const d of waiting) send({ stream: 'output', data: d });
      if (endWhileHolding !== null) finish(endWhileHolding);
    };
    let a: Awaited<ReturnType<StreamHost['attach']>> | null = null;
    const resync = () => {
      if (ended || socket.destroyed || !a) return;
      held = [];
      a.resync().then(
        (view) => {
          if (!ended || endWhileHolding !== null) showScreen(view);
        },
        // The session ended meanwhile (its end reaches the viewer by itself) or the screen failed.
        (err) => this.log(`control socket: resync failed: ${(err as Error).message}`),
      );
    };
    a = await this.streamsHost.attach(caller, p, {
      data: (d) => {
        if (held) held.push(d);
        else send({ stream: 'output', data: d });
      },
      end: (reason) => {
        if (ended) return;
        ended = true;
        if (held) endWhileHolding = reason;
        else finish(reason);
      },
      backlog: () => socket.writableLength,
      stalled: () => {
        // Nothing more is sent until the peer has read what it has; then a fresh screen.
        if (socket.writableLength === 0) resync();
        else socket.once('drain', resync);
      },
    });
    const attached = a;
    if (socket.destroyed) return attached.detach(); // the peer left while the screen was taken
    send({ id, result: { session: attached.session, cols: attached.cols, rows: attached.rows } });
    showScreen(attached);
    becomeStream({
      input: (line) => {
        let f: unknown;
        try {
          f = streamInputFrame.parse(JSON.parse(line));
        } catch {
          return send({ id: null, error: { code: 'bad_frame', message: 'expected {input}, {resize} or {detach}' } });
        }
        const frame = f as { input?: string; resize?: { cols: number; rows: number }; detach?: true };
        if (frame.input !== undefined) attached.input(frame.input);
        else if (frame.resize) attached.resize(frame.resize.cols, frame.resize.rows);
        else if (frame.detach) {
          attached.detach();
          ended = true;
          finish('detached');
        }
      },
      close: () => attached.detach(),
    });
  }
}
