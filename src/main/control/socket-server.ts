// The control socket: a Unix domain socket in the town dir (0600), newline-delimited JSON.
// Every frame carries a token; every input is validated; a bad frame gets a typed error
// and the connection (and the engine) keep serving.
import fs from 'node:fs';
import net from 'node:net';
import { isStreamMethod, streams, type Caller } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import { MAX_FRAME_BYTES, requestFrame, streamInputFrame, type ResponseFrame, type StreamFrame } from '../../shared/frames';
import { fieldOf, parseFrame, type ApiDispatcher } from '../api/dispatcher';
import { LineReader } from './line-reader';

/** What a stream needs from the engine. */
export interface StreamHost {
  attach(
    caller: Caller,
    params: { agent: string; cols?: number; rows?: number; quickLines?: number },
    out: { data(d: string): void; end(reason: string): void; backlog(): number; resized?(cols: number, rows: number): void },
  ): Promise<{
    session: string;
    screen: string;
    cols: number;
    rows: number;
    /** See Attachment.history: the whole scrollback, when `screen` holds only `quickLines` of it. */
    history: Promise<string> | null;
    input(d: string): void;
    resize(c: number, r: number): void;
    detach(): void;
  }>;
  watch(after: number | undefined, push: (patch: unknown) => void): { revision: number; stop(): void };
}

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
    const send = (frame: ResponseFrame | StreamFrame) => {
      if (!socket.destroyed) socket.write(JSON.stringify(frame) + '\n');
    };
    const fail = (id: number | null, err: ApiError) => send({ id, error: err.toJSON() });
    let streamInput: ((line: string) => void) | null = null;
    let closeStream: (() => void) | null = null;

    const reader = new LineReader(
      MAX_FRAME_BYTES,
      (line) => {
        if (streamInput) return streamInput(line);
        void this.handleRequest(socket, line, send, fail, (input, close) => {
          streamInput = input;
          closeStream = close;
        });
      },
      () => fail(null, new ApiError('bad_frame', `frame larger than ${MAX_FRAME_BYTES} bytes`)),
    );
    socket.on('data', (d: string) => reader.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.sockets.delete(socket);
      (closeStream as (() => void) | null)?.();
    });
  }

  private async handleRequest(
    socket: net.Socket,
    line: string,
    send: (f: ResponseFrame | StreamFrame) => void,
    fail: (id: number | null, err: ApiError) => void,
    becomeStream: (input: (line: string) => void, close: () => void) => void,
  ) {
    const frame = parseFrame(line, requestFrame);
    if ('error' in frame) return fail(frame.id, frame.error);
    const { id, method, params, token } = frame.frame;
    try {
      const caller = this.dispatcher.authenticate(token);
      if (isStreamMethod(method)) return await this.openStream(id, caller, method, params, socket, send, becomeStream);
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
    send: (f: ResponseFrame | StreamFrame) => void,
    becomeStream: (input: (line: string) => void, close: () => void) => void,
  ) {
    if (streams[method].access === 'overseer' && caller.kind !== 'overseer') throw new ApiError('forbidden', `${method} is for the overseer`);
    const parsed = streams[method].input.safeParse(params ?? {});
    if (!parsed.success) {
      const { field, message } = fieldOf(parsed.error);
      throw new ApiError('invalid_input', message, field);
    }
    if (method === 'feed.watch') {
      const p = parsed.data as { after?: number };
      const w = this.streamsHost.watch(p.after, (patch) => send({ stream: 'patch', patch }));
      send({ id, result: { revision: w.revision } });
      becomeStream(() => {}, () => w.stop());
      return;
    }
    const p = parsed.data as { agent: string; cols?: number; rows?: number };
    let ended = false;
    const a = await this.streamsHost.attach(caller, p, {
      data: (d) => send({ stream: 'output', data: d }),
      end: (reason) => {
        if (ended) return;
        ended = true;
        send({ stream: 'end', reason });
        socket.end();
      },
      backlog: () => socket.writableLength,
    });
    send({ id, result: { session: a.session, cols: a.cols, rows: a.rows } });
    send({ stream: 'screen', data: a.screen, cols: a.cols, rows: a.rows });
    becomeStream(
      (line) => {
        let f: unknown;
        try {
          f = streamInputFrame.parse(JSON.parse(line));
        } catch {
          return send({ id: null, error: { code: 'bad_frame', message: 'expected {input}, {resize} or {detach}' } });
        }
        const frame = f as { input?: string; resize?: { cols: number; rows: number }; detach?: true };
        if (frame.input !== undefined) a.input(frame.input);
        else if (frame.resize) a.resize(frame.resize.cols, frame.resize.rows);
        else if (frame.detach) {
          a.detach();
          ended = true;
          send({ stream: 'end', reason: 'detached' });
          socket.end();
        }
      },
      () => a.detach(),
    );
  }
}
