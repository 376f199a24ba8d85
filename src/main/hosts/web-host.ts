// The web host of `town serve`: the built renderer over HTTP and the engine API over
// WebSocket, on loopback by default. Every request needs the town's web token (in the URL
// once, then a SameSite cookie); WebSocket upgrades must come from our own origin.
// Every request is hostile until checked: malformed input is answered 400/401 and
// logged, and an unexpected throw answers 500 instead of ending the engine.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_UI_FRAME_BYTES, type TerminalServerFrame } from '../../shared/web-protocol';
import type { ApiDispatcher } from '../api/dispatcher';
import { CONNECTION_LIMITS, type StreamHost } from '../control/socket-server';
import { hostHeadersFor } from './bind-address';
import { openApiLink, openTerminalLink, type Link } from './ui-links';
import { cookieValues, localPath, quoted, requestTarget, tokenCookieName } from './web-request';

export interface WebHostOptions {
  dispatcher: ApiDispatcher;
  streams: StreamHost;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  host?: string;
  port?: number;
  token?: string;
  log?: (line: string) => void;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
  '.ico': 'image/x-icon',
};
// The same policy the Electron window uses, plus the WebSocket back to this host.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

export class WebHost {
  readonly token: string;
  private server: http.Server | null = null;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_UI_FRAME_BYTES, perMessageDeflate: false });
  private readonly links = new Set<Link>();
  private readonly paused = new WeakSet<WebSocket>();
  private address: { host: string; port: number } | null = null;
  /** Host header values that name this server (see hostHeadersFor). */
  private hostHeaders = new Set<string>();
  private readonly log: (line: string) => void;

  constructor(private readonly o: WebHostOptions) {
    this.token = o.token ?? randomBytes(24).toString('base64url');
    this.log = o.log ?? (() => {});
  }

  /** The URL to open (carries the token). */
  get url(): string {
    if (!this.address) throw new Error('the web host is not listening');
    const host = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `http://${host}:${this.address.port}/?token=${this.token}`;
  }

  /** The port it listens on. */
  get port(): number {
    if (!this.address) throw new Error('the web host is not listening');
    return this.address.port;
  }

  /**
   * Listens on the first of `ports` that is free (0: any free port); a port in use moves on
   * to the next, any other failure is thrown. Resolves with the URL to open.
   */
  async listen(ports: number[] = [this.o.port ?? 0]): Promise<string> {
    const server = http.createServer((req, res) => this.contain(`${quoted(req.method ?? '')} ${quoted(req.url ?? '')}`, () => this.serveHttp(req, res), () => failResponse(res)));
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      // Node leaves an upgraded socket without an error listener: a reset would be fatal.
      socket.on('error', () => socket.destroy());
      this.contain(`upgrade ${quoted(req.url ?? '')}`, () => this.upgrade(req, socket, head), () => refuse(socket, 500, 'Internal Server Error'));
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => this.refuseUnparsable(err, socket));
    this.server = server;
    const host = this.o.host ?? '127.0.0.1';
    for (const [i, port] of ports.entries()) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || i === ports.length - 1) throw err;
      }
    }
    const addr = server.address() as net.AddressInfo;
    this.address = { host, port: addr.port };
    this.hostHeaders = hostHeadersFor(host, addr.port, { hostname: os.hostname(), interfaces: os.networkInterfaces() });
    return this.url;
  }

  /** Says why to every client (a tab shows it while it waits for the engine), then closes. */
  async close(reason = 'the town engine stopped'): Promise<void> {
    for (const l of this.links) l.close();
    this.links.clear();
    const clients = [...this.wss.clients];
    const gone = Promise.all(clients.map((c) => new Promise<void>((r) => (c.readyState === c.CLOSED ? r() : c.once('close', () => r())))));
    for (const c of clients) c.close(1001, reason);
    // A client that does not answer its close frame at once is not waited for.
    await Promise.race([gone, new Promise((r) => setTimeout(r, 500).unref())]);
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
  }

  private get cookieName(): string {
    return tokenCookieName(this.address?.port ?? 0);
  }

  /** The token offered in the query, else this town's cookie (any of them, if repeated). */
  private tokensOf(req: http.IncomingMessage, url: URL): string[] {
    const q = url.searchParams.get('token');
    if (q) return [q];
    const { values, malformed } = cookieValues(req.headers.cookie, this.cookieName);
    if (malformed) this.log(`web host: ignored ${malformed} malformed token cookie(s) on ${quoted(url.pathname)}`);
    return values;
  }

  private authorized(req: http.IncomingMessage, url: URL): boolean {
    return this.tokensOf(req, url).some((t) => this.validToken(t));
  }

  private validToken(t: string | null): boolean {
    if (!t) return false;
    const a = Buffer.from(t);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Host header must name this server (guards against DNS rebinding), on every bind. */
  private hostAllowed(req: http.IncomingMessage): boolean {
    const host = (req.headers.host ?? '').toLowerCase();
    if (this.hostHeaders.has(host)) return true;
    this.log(`web host: refused Host ${quoted(host)}`);
    return false;
  }

  /** An unexpected throw in a request path is logged and answered by `fail`, never fatal. */
  private contain(what: string, run: () => void, fail: () => void) {
    try {
      run();
    } catch (err) {
      this.log(`web host: ${what} failed: ${(err as Error)?.stack ?? err}`);
      try {
        fail();
      } catch {
        // the socket is gone already
      }
    }
  }

  /** Requests Node cannot parse (bad method, header too large, garbage): answered, then closed. */
  private refuseUnparsable(err: NodeJS.ErrnoException, socket: net.Socket) {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    this.log(`web host: unparsable request (${err.code ?? err.message})`);
    if (err.code === 'HPE_HEADER_OVERFLOW') refuse(socket, 431, 'Request Header Fields Too Large');
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') refuse(socket, 408, 'Request Timeout');
    else refuse(socket, 400, 'Bad Request');
  }

  private serveHttp(req: http.IncomingMessage, res: http.ServerResponse) {
    const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store' };
    const url = requestTarget(req.url);
    if (!url) {
      this.log(`web host: bad request target ${quoted(req.url ?? '')}`);
      res.writeHead(400, { ...headers, 'Content-Type': 'text/plain', Connection: 'close' }).end('bad request target');
      return;
    }
    if (!this.hostAllowed(req)) {
      res.writeHead(421, { ...headers, 'Content-Type': 'text/plain' }).end('unknown host');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    if (!this.authorized(req, url)) {
      res.writeHead(401, { ...headers, 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Overseer</title><p>This page needs the token printed by <code>town serve</code>. Open the full URL it printed.</p>');
      return;
    }
    if (url.searchParams.has('token')) {
      // Trade the token in the address bar for a cookie, then show a clean URL.
      const cookie = `${this.cookieName}=${encodeURIComponent(this.token)}; HttpOnly; SameSite=Strict; Path=/`;
      res.writeHead(303, { ...headers, 'Set-Cookie': cookie, Location: localPath(url.pathname) });
      res.end();
      return;
    }
    const file = this.resolveStatic(url.pathname);
    if (!file) {
      const index = path.join(this.o.rendererDir, 'index.html');
      if (!fs.existsSync(index)) {
        res.writeHead(503, { ...headers, 'Content-Type': 'text/plain' }).end(`The UI is not built (${index} is missing): run \`npm run build\`.`);
        return;
      }
      // Client-side routes fall back to the app.
      if (path.extname(url.pathname)) {
        res.writeHead(404, headers).end();
        return;
      }
      return this.sendFile(res, index, headers, req.method === 'HEAD');
    }
    this.sendFile(res, file, headers, req.method === 'HEAD');
  }

  private resolveStatic(pathname: string): string | null {
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return null;
    }
    if (rel === '/' || rel.includes('\0')) return null;
    const root = path.resolve(this.o.rendererDir);
    const file = path.resolve(root, '.' + rel);
    if (!file.startsWith(root + path.sep)) return null;
    return fs.existsSync(file) && fs.statSync(file).isFile() ? file : null;
  }

  private sendFile(res: http.ServerResponse, file: string, headers: Record<string, string>, headOnly: boolean) {
    const type = MIME[path.extname(file)] ?? 'application/octet-stream';
    const body = fs.readFileSync(file);
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': body.length });
    res.end(headOnly ? undefined : body);
  }

  private upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer) {
    const url = requestTarget(req.url);
    if (!url) {
      this.log(`web host: bad upgrade target ${quoted(req.url ?? '')}`);
      return refuse(socket, 400, 'Bad Request');
    }
    if (!this.hostAllowed(req)) return refuse(socket, 421, 'Misdirected Request');
    // Browsers always send Origin on WebSocket; it must be this very host. Non-browser
    // clients (no Origin) still need the token.
    const origin = req.headers.origin;
    if (origin !== undefined && origin.toLowerCase() !== `http://${(req.headers.host ?? '').toLowerCase()}`) {
      this.log(`web host: refused a WebSocket from origin ${quoted(origin)}`);
      return refuse(socket, 403, 'Forbidden');
    }
    if (!this.authorized(req, url)) return refuse(socket, 401, 'Unauthorized');
    if (url.pathname !== '/api' && url.pathname !== '/terminal') return refuse(socket, 404, 'Not Found');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // From here a bad frame or an oversized message is an 'error' on ws: it must have a listener at once.
      ws.on('error', (err) => this.log(`web host: WebSocket ${url.pathname}: ${err.message}`));
      if (url.pathname === '/api') return this.acceptApi(ws);
      this.acceptTerminal(ws, url).catch((err) => {
        this.log(`web host: terminal attach failed: ${(err as Error)?.stack ?? err}`);
        ws.terminate();
      });
    });
  }

  private acceptApi(ws: WebSocket) {
    const link = openApiLink(this.o.dispatcher, this.o.streams, (f) => this.sendBounded(ws, JSON.stringify(f)), this.log);
    this.track(ws, link);
  }

  private async acceptTerminal(ws: WebSocket, url: URL) {
    const agent = url.searchParams.get('agent') ?? '';
    const num = (k: string) => {
      const v = Number(url.searchParams.get(k));
      return Number.isInteger(v) && v >= 2 && v <= 1000 ? v : undefined;
    };
    // Input that arrives while the attach resolves is kept, in order.
    const early: string[] = [];
    const onEarly = (d: unknown) => early.push(String(d));
    ws.on('message', onEarly);
    // Output is paced by the viewer's acks; the bound only catches a peer that stopped reading.
    const send = (f: TerminalServerFrame) => this.sendBounded(ws, f.t === 'output' ? f.data : JSON.stringify(f));
    const link = await openTerminalLink(this.o.streams, agent, { cols: num('cols'), rows: num('rows') }, send, () => ws.close(1000));
    ws.off('message', onEarly);
    // The viewer left while the attach resolved: nobody will ack, so its backlog would pause the agent.
    if (ws.readyState !== ws.OPEN) return link.close();
    this.track(ws, link);
    for (const d of early) this.contain('WebSocket message', () => link.receive(d), () => ws.close(1011));
  }

  /**
   * The same bounds as the control socket (CONNECTION_LIMITS): while a client leaves too much
   * unread, its requests are not read either; past the hard limit it is dropped, so a tab or
   * script that never reads cannot grow the engine.
   */
  private sendBounded(ws: WebSocket, data: string | Uint8Array) {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(data, { binary: typeof data !== 'string' });
    if (ws.bufferedAmount > CONNECTION_LIMITS.maxUnsentBytes) {
      this.log(`web host: dropped a client with ${ws.bufferedAmount} bytes unread`);
      ws.terminate();
    } else if (ws.bufferedAmount > CONNECTION_LIMITS.pauseReadingAboveBytes && !this.paused.has(ws)) {
      ws.pause();
      const check = setInterval(() => {
        if (ws.readyState === ws.OPEN && ws.bufferedAmount > CONNECTION_LIMITS.pauseReadingAboveBytes / 2) return;
        clearInterval(check);
        this.paused.delete(ws);
        if (ws.readyState === ws.OPEN) ws.resume();
      }, 20);
      this.paused.add(ws);
    }
  }

  private track(ws: WebSocket, link: Link) {
    this.links.add(link);
    ws.on('message', (d) =>
      this.contain('WebSocket message', () => link.receive(String(d)), () => ws.close(1011)),
    );
    ws.on('close', () => {
      this.links.delete(link);
      link.close();
    });
  }
}

/** Answers a refused upgrade or unparsable request on the raw socket, then closes it. */
function refuse(socket: net.Socket, status: number, text: string) {
  if (!socket.writable) return void socket.destroy();
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function failResponse(res: http.ServerResponse) {
  if (res.headersSent) return void res.destroy();
  res.writeHead(500, { 'Content-Type': 'text/plain', Connection: 'close' }).end('internal error');
}
