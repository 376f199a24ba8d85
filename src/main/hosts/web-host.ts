// The web host of `town serve`: the built renderer over HTTP and the engine API over
// WebSocket, on loopback by default. Every request needs the per-run token (in the URL
// once, then a SameSite cookie); WebSocket upgrades must come from our own origin.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_UI_FRAME_BYTES, type TerminalServerFrame } from '../../shared/web-protocol';
import type { ApiDispatcher } from '../api/dispatcher';
import type { StreamHost } from '../control/socket-server';
import { openApiLink, openTerminalLink, type Link } from './ui-links';

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

const COOKIE = 'overseer_token';
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
  private address: { host: string; port: number } | null = null;
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

  async listen(): Promise<string> {
    const server = http.createServer((req, res) => this.serveHttp(req, res));
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket as import('node:net').Socket, head));
    this.server = server;
    const host = this.o.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port ?? 0, host, () => resolve());
    });
    const addr = server.address() as import('node:net').AddressInfo;
    this.address = { host, port: addr.port };
    return this.url;
  }

  async close(): Promise<void> {
    for (const l of this.links) l.close();
    this.links.clear();
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
  }

  private tokenOf(req: http.IncomingMessage, url: URL): string | null {
    const q = url.searchParams.get('token');
    if (q) return q;
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [k, v] = part.trim().split('=');
      if (k === COOKIE && v) return decodeURIComponent(v);
    }
    return null;
  }

  private validToken(t: string | null): boolean {
    if (!t) return false;
    const a = Buffer.from(t);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Host header must name this server (guards against DNS rebinding). */
  private hostAllowed(req: http.IncomingMessage): boolean {
    const port = this.address?.port;
    const host = req.headers.host ?? '';
    const allowed = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
    if (this.o.host && this.o.host !== '127.0.0.1') allowed.add(`${this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host}:${port}`);
    // Bound to every interface: any name may reach us; the token still guards everything.
    return allowed.has(host) || this.o.host === '0.0.0.0' || this.o.host === '::';
  }

  private serveHttp(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://local');
    const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store' };
    if (!this.hostAllowed(req)) {
      res.writeHead(421, { ...headers, 'Content-Type': 'text/plain' }).end('unknown host');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    const token = this.tokenOf(req, url);
    if (!this.validToken(token)) {
      res.writeHead(401, { ...headers, 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Overseer</title><p>This page needs the token printed by <code>town serve</code>. Open the full URL it printed.</p>');
      return;
    }
    if (url.searchParams.has('token')) {
      // Trade the token in the address bar for a cookie, then show a clean URL.
      res.writeHead(303, { ...headers, 'Set-Cookie': `${COOKIE}=${encodeURIComponent(this.token)}; HttpOnly; SameSite=Strict; Path=/`, Location: url.pathname });
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

  private upgrade(req: http.IncomingMessage, socket: import('node:net').Socket, head: Buffer) {
    const url = new URL(req.url ?? '/', 'http://local');
    const reject = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!this.hostAllowed(req)) return reject(421, 'Misdirected Request');
    // Browsers always send Origin on WebSocket; it must be this very host. Non-browser
    // clients (no Origin) still need the token.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`) {
      this.log(`web host: refused a WebSocket from origin ${origin}`);
      return reject(403, 'Forbidden');
    }
    if (!this.validToken(this.tokenOf(req, url))) return reject(401, 'Unauthorized');
    if (url.pathname !== '/api' && url.pathname !== '/terminal') return reject(404, 'Not Found');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (url.pathname === '/api') this.acceptApi(ws);
      else void this.acceptTerminal(ws, url);
    });
  }

  private acceptApi(ws: WebSocket) {
    const link = openApiLink(this.o.dispatcher, this.o.streams, (f) => sendJson(ws, f), this.log);
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
    const send = (f: TerminalServerFrame) => {
      if (ws.readyState !== ws.OPEN) return;
      if (f.t === 'output') ws.send(f.data, { binary: true });
      else ws.send(JSON.stringify(f));
    };
    const link = await openTerminalLink(this.o.streams, agent, { cols: num('cols'), rows: num('rows') }, send, () => ws.close(1000));
    ws.off('message', onEarly);
    this.track(ws, link);
    for (const d of early) link.receive(d);
  }

  private track(ws: WebSocket, link: Link) {
    this.links.add(link);
    ws.on('message', (d) => link.receive(String(d)));
    ws.on('error', () => {});
    ws.on('close', () => {
      this.links.delete(link);
      link.close();
    });
  }
}

function sendJson(ws: WebSocket, frame: unknown) {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
}
