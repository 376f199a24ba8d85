// A client for the control socket, used by the `town` CLI and by tests.
import net from 'node:net';
import type { Transport } from '../../shared/typed-client';
import { ApiError, type ApiErrorShape } from '../../shared/errors';
import type { StreamFrame } from '../../shared/frames';
import { LineReader } from './line-reader';

type Frame = { id: number | null; result?: unknown; error?: ApiErrorShape } | StreamFrame;

/** The largest answer read (a whole-town snapshot is well under it). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
const tooLarge = () => new ApiError('internal', `the engine sent a frame larger than ${MAX_ANSWER_BYTES} bytes`);

export class EngineNotRunningError extends ApiError {
  constructor(socketPath: string) {
    super('engine_not_running', `no engine is serving this town (${socketPath}); start one with \`town serve\``);
  }
}

function connect(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    socket.setEncoding('utf8');
    socket.once('connect', () => resolve(socket));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new EngineNotRunningError(socketPath));
      else reject(err);
    });
  });
}

export class SocketClient implements Transport {
  private socket: net.Socket | null = null;
  private nextId = 1;
  private pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(private readonly socketPath: string, private readonly token: string) {}

  private async ensure(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = await connect(this.socketPath);
    let lost = new ApiError('engine_not_running', 'the engine closed the connection');
    // An answer cut at the limit cannot be matched to its call: fail them all rather than hang.
    const reader = new LineReader(MAX_ANSWER_BYTES, (line) => this.receive(JSON.parse(line) as Frame), () => {
      lost = tooLarge();
      socket.destroy();
    });
    socket.on('data', (d: string) => reader.push(d));
    socket.on('error', () => {}); // 'close' follows and fails what is pending
    socket.on('close', () => {
      for (const p of this.pending.values()) p.reject(lost);
      this.pending.clear();
      this.socket = null;
    });
    this.socket = socket;
    return socket;
  }

  private receive(frame: Frame) {
    if (!('id' in frame) || frame.id === null) return;
    const p = this.pending.get(frame.id);
    if (!p) return;
    this.pending.delete(frame.id);
    if (frame.error) p.reject(ApiError.from(frame.error));
    else p.resolve(frame.result);
  }

  async call(method: string, params: unknown): Promise<unknown> {
    const socket = await this.ensure();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      socket.write(JSON.stringify({ id, token: this.token, method, params }) + '\n');
    });
  }

  /** Sends raw text (tests use it for malformed frames) and returns the next response frame. */
  async raw(text: string): Promise<Frame> {
    const socket = await connect(this.socketPath);
    return new Promise((resolve, reject) => {
      const reader = new LineReader(MAX_ANSWER_BYTES, (line) => {
        socket.destroy();
        resolve(JSON.parse(line) as Frame);
      }, () => {
        socket.destroy();
        reject(tooLarge());
      });
      socket.on('data', (d: string) => reader.push(d));
      socket.on('error', reject);
      socket.write(text);
    });
  }

  close() {
    this.socket?.end();
    this.socket = null;
  }
}

export interface OpenStream {
  result: unknown;
  send(frame: unknown): void;
  close(): void;
  closed: Promise<string>;
}

/** Opens a stream (attach, watch) on its own connection. */
export async function openStream(socketPath: string, token: string, method: string, params: unknown, onFrame: (f: StreamFrame) => void): Promise<OpenStream> {
  const socket = await connect(socketPath);
  let endReason = 'closed';
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(endReason)));
  return new Promise((resolve, reject) => {
    let opened = false;
    const reader = new LineReader(MAX_ANSWER_BYTES, (line) => {
      const frame = JSON.parse(line) as Frame;
      if (!opened) {
        if ('error' in frame && frame.error) {
          socket.destroy();
          return reject(ApiError.from(frame.error));
        }
        if ('id' in frame) {
          opened = true;
          return resolve({
            result: frame.result,
            send: (f) => socket.write(JSON.stringify(f) + '\n'),
            close: () => socket.end(),
            closed,
          });
        }
      }
      if ('stream' in frame && frame.stream === 'end') endReason = frame.reason;
      if ('stream' in frame) onFrame(frame);
    }, () => {
      endReason = tooLarge().message;
      socket.destroy();
      if (!opened) reject(tooLarge());
    });
    socket.on('data', (d: string) => reader.push(d));
    socket.on('error', reject);
    socket.write(JSON.stringify({ id: 1, token, method, params }) + '\n');
  });
}
