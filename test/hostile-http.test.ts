// Hostile input to `town serve`'s web host: exact bytes over raw TCP (fetch would
// normalise them), against a real served town whose agent waits at a prompt. After each
// request the engine is the same process, answers the next request, and its revision
// has not moved. The host-name guard on a wildcard bind, the per-port token cookie and
// the containment of an unexpected throw are checked on an in-process web host.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { StreamHost } from '../src/main/control/socket-server';
import { Engine } from '../src/main/engine/engine';
import { WebHost } from '../src/main/hosts/web-host';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

interface Answer {
  /** The status of the answer, 0 when the server closed without one. */
  status: number;
  head: string;
  /** WebSocket frames the server sent after a 101, by opcode (1 text, 2 binary, 8 close). */
  opcodes: number[];
}

/**
 * Sends `bytes` on a fresh connection and reads the answer's head; with `untilClose`,
 * after a 101 reads frames until the server sends a close frame or closes. `reset` drops
 * the connection (RST) right after sending, without reading.
 */
function exchange(port: number, bytes: string | Buffer, o: { reset?: boolean; untilClose?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const end = received.indexOf('\r\n\r\n');
      const head = (end < 0 ? received : received.subarray(0, end)).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, opcodes: end < 0 ? [] : frameOpcodes(received.subarray(end + 4)) });
    };
    const timer = setTimeout(() => (settled = true, socket.destroy(), reject(new Error(`no answer to ${JSON.stringify(String(bytes).slice(0, 80))}`))), 20_000);
    socket.on('connect', () => {
      socket.write(bytes);
      if (o.reset) {
        socket.resetAndDestroy();
        settle();
      }
    });
    socket.on('data', (d) => {
      received = Buffer.concat([received, d]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!o.untilClose || !/^HTTP\/1\.1 101/.test(received.toString('latin1', 0, 12))) return settle();
      if (frameOpcodes(received.subarray(end + 4)).includes(8)) settle();
    });
    socket.on('error', () => settle());
    socket.on('close', () => settle());
  });
}

/** Opcodes of the complete (unmasked, server-sent) WebSocket frames in `b`. */
function frameOpcodes(b: Buffer): number[] {
  const out: number[] = [];
  let at = 0;
  while (at + 2 <= b.length) {
    let len = b[at + 1] & 0x7f;
    let start = at + 2;
    if (len === 126) {
      if (start + 2 > b.length) break;
      len = b.readUInt16BE(start);
      start += 2;
    } else if (len === 127) {
      if (start + 8 > b.length) break;
      len = Number(b.readBigUInt64BE(start));
      start += 8;
    }
    if (start + len > b.length) break;
    out.push(b[at] & 0x0f);
    at = start + len;
  }
  return out;
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
function upgradeRequest(target: string, host: string, headers: Record<string, string> = {}): string {
  const all = { Host: host, Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': KEY, 'Sec-WebSocket-Version': '13', ...headers };
  return `GET ${target} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}
function getRequest(target: string, host: string, headers: Record<string, string> = {}, method = 'GET'): string {
  const all = { Host: host, Connection: 'close', ...headers };
  return `${method} ${target} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

describe('a served town under hostile HTTP', () => {
  const dir = tempDir('hostile');
  let served: ServedTown;
  let port: number;
  let token: string;
  let host: string;
  let agent: string;
  let before: { pid: number; revision: number };

  /** The first screen a WebSocket viewer of `agent` gets. */
  const screenOf = (name: string) =>
    new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`ws://${host}/terminal?agent=${name}&token=${token}`);
      ws.on('message', (d, binary) => {
        if (binary) return;
        const f = JSON.parse(String(d));
        ws.close();
        if (f.t === 'screen') resolve(f.data);
        else reject(new Error(JSON.stringify(f)));
      });
      ws.on('error', reject);
    });

  /** The same engine process, answering, with nothing changed in the town. */
  async function expectSteady() {
    const asked = await town(dir, ['status', '--json']);
    if (asked.code !== 0) throw new Error(`the engine is gone (${asked.stderr.trim()}); it printed:\n${served.log.slice(-3000)}`);
    const status = JSON.parse(asked.stdout) as { pid: number; revision: number };
    expect({ pid: status.pid, revision: status.revision }).toEqual(before);
    const login = await fetch(served.url, { redirect: 'manual' });
    expect(login.status).toBe(303);
  }

  beforeAll(async () => {
    const repo = makeRepo(tempDir('repo'));
    expect((await town(dir, ['init', dir])).code).toBe(0);
    expect((await town(dir, ['rig', 'add', 'app', repo, '--prefix', 'ap'])).code).toBe(0);
    // An agent that stops at a prompt: a live session, and a town that holds still.
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Wait for an answer', '--scenario', 'needs-input');
    served = new ServedTown(dir);
    await served.start();
    const url = new URL(served.url);
    port = Number(url.port);
    host = url.host;
    token = url.searchParams.get('token')!;
    expect((await town(dir, ['sling', bead.id])).code).toBe(0);
    agent = await waitFor('the agent to start', async () => {
      const agents = await townJson<Array<{ id: string; hook: string | null; session: string | null }>>(dir, 'agents');
      return agents.find((a) => a.hook === bead.id && a.session)?.id;
    });
    await waitFor('the agent to ask', async () => (await screenOf(agent)).includes('Proceed?'));
    // Once the engine has seen it waiting, nothing in the town changes until someone answers.
    await waitFor('the agent to show waiting', async () =>
      (await townJson<Array<{ id: string; status: string }>>(dir, 'agents')).find((a) => a.id === agent)?.status === 'waiting');
    const status = await townJson<{ pid: number; revision: number }>(dir, 'status');
    before = { pid: status.pid, revision: status.revision };
  });
  afterAll(async () => {
    await served?.stop();
    removeTempDirs();
  });

  it('answers malformed request targets with 400, and odd paths as paths (401 without the token)', async () => {
    for (const target of ['http://evil.example/', '*', 'evil.example:80']) {
      expect((await exchange(port, getRequest(target, host))).status, target).toBe(400);
      await expectSteady();
    }
    // `//x` is a path, not a host: these once threw out of the handler and ended the engine.
    for (const target of ['//%zz', '//[', '//[::1', '//a:b@', '/%', '/%00', '/?token=%zz%', '/?token']) {
      expect((await exchange(port, getRequest(target, host))).status, target).toBe(401);
      await expectSteady();
    }
  });

  it('answers bad, garbage and repeated token cookies with 401, and still knows the right one among them', async () => {
    const name = `overseer_token_${port}`;
    for (const cookie of [
      `overseer_token=%E0%A4%A; ${name}=%E0%A4%A`,
      `${name}=%`,
      `=; ;;; ${name}; ${name}==; ${name}="; =${token}`,
      `${name}=wrong; ${name}=${token.slice(1)}`,
      'x'.repeat(8000),
    ]) {
      expect((await exchange(port, getRequest('/', host, { Cookie: cookie }))).status, cookie).toBe(401);
    }
    await expectSteady();
    const repeated = await exchange(port, getRequest('/', host, { Cookie: `${name}=%E0%A4%A; ${name}=wrong; ${name}=${token}` }));
    expect(repeated.status).not.toBe(401);
    await expectSteady();
  });

  it('answers unparsable requests (absurd methods, oversized headers, garbage) and stays up', async () => {
    expect((await exchange(port, getRequest('/', host, {}, 'FROBNICATE'))).status).toBe(400);
    expect((await exchange(port, getRequest('/', host, {}, 'PROPFIND'))).status).toBe(405);
    expect((await exchange(port, getRequest('/', host, { 'X-Filler': 'y'.repeat(20_000) }))).status).toBe(431);
    expect((await exchange(port, Buffer.from([0, 1, 2, 0xff, 0xfe, 13, 10, 13, 10]))).status).toBe(400);
    expect((await exchange(port, `GET / HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`)).status).toBe(400);
    // A body the size of a disk on a method we refuse.
    expect((await exchange(port, getRequest('/', host, { 'Content-Length': '1000000000000' }, 'POST') + 'x'.repeat(1000))).status).toBe(405);
    await expectSteady();
  });

  it('answers a Host that is not ours with 421, on HTTP and on upgrades', async () => {
    for (const name of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, '']) {
      expect((await exchange(port, getRequest(`/?token=${token}`, host, { Host: name }))).status, name).toBe(421);
      expect((await exchange(port, upgradeRequest(`/api?token=${token}`, host, { Host: name }))).status, name).toBe(421);
    }
    await expectSteady();
  });

  it('refuses malformed upgrades to /api and /terminal without harm', async () => {
    const name = `overseer_token_${port}`;
    for (const [request, status] of [
      [upgradeRequest('//%zz', host), 401],
      [upgradeRequest('//[', host), 401],
      [upgradeRequest(`//[?token=${token}`, host), 404],
      [upgradeRequest('*', host), 400],
      [upgradeRequest('/api', host, { Cookie: `overseer_token=%E0%A4%A; ${name}=%E0%A4%A` }), 401],
      [upgradeRequest('/terminal?agent=x', host, { Cookie: `${name}=%` }), 401],
      [upgradeRequest(`/api?token=${token}`, host, { Origin: 'http://evil.example' }), 403],
      [upgradeRequest(`/api?token=${token}`, host, { Origin: 'null' }), 403],
      [upgradeRequest(`/%?token=${token}`, host), 404],
      [upgradeRequest(`/api?token=${token}`, host, { 'Sec-WebSocket-Key': 'not a key' }), 400],
      [upgradeRequest(`/api?token=${token}`, host, { 'Sec-WebSocket-Version': '99' }), 400],
      [upgradeRequest(`/api?token=${token}`, host, { Upgrade: 'h2c' }), 400],
    ] as const) {
      expect((await exchange(port, request)).status, request.split('\r\n')[0]).toBe(status);
    }
    // Clients that reset the connection before the answer.
    for (let i = 0; i < 20; i++) await exchange(port, upgradeRequest('/api?token=wrong', host), { reset: true });
    for (let i = 0; i < 20; i++) await exchange(port, upgradeRequest('//%zz', host), { reset: true });
    await expectSteady();
  });

  it('closes WebSockets that send bad or oversized frames, even while a terminal attaches', async () => {
    const unmasked = Buffer.from([0x81, 0x02, 0x68, 0x69]);
    const huge = Buffer.concat([Buffer.from([0x82, 0xff]), Buffer.from([0, 0, 1, 0, 0, 0, 0, 0]), Buffer.from([1, 2, 3, 4])]);
    for (const target of [`/api?token=${token}`, `/terminal?agent=${agent}&token=${token}`]) {
      for (const frame of [unmasked, huge]) {
        // The frame arrives with the upgrade, so it is read before an attach resolves.
        const answer = await exchange(port, Buffer.concat([Buffer.from(upgradeRequest(target, host)), frame]), { untilClose: true });
        expect(answer.status, `${target.split('?')[0]} ${frame === huge ? 'huge' : 'unmasked'}: ${served.log.slice(-2000)}`).toBe(101);
        expect(answer.opcodes).toContain(8);
      }
    }
    await expectSteady();
    expect(await screenOf(agent)).toContain('Proceed?');
  });

  it('stops reading a WebSocket client that never reads its answers, so the engine stays small', async () => {
    const rss = async () => (await townJson<{ memory: { rss_mb: number } }>(dir, 'status')).memory.rss_mb;
    const start = await rss();
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.on('error', () => {});
    socket.write(upgradeRequest(`/api?token=${token}`, host));
    // Masked text frames (a zero mask keeps the payload as it is), written and never read.
    const frame = (text: string) => Buffer.concat([Buffer.from([0x81, 0x80 | text.length, 0, 0, 0, 0]), Buffer.from(text)]);
    const batch = Buffer.concat(Array.from({ length: 1000 }, (_, i) => frame(`{"id":${i},"method":"town.snapshot"}`)));
    for (let i = 0; i < 50 && !socket.destroyed; i++) {
      if (!socket.write(batch)) await Promise.race([new Promise((r) => socket.once('drain', r)), new Promise((r) => setTimeout(r, 500))]);
    }
    let peak = start;
    for (let i = 0; i < 15; i++) {
      peak = Math.max(peak, await rss());
      await new Promise((r) => setTimeout(r, 200));
    }
    socket.destroy();
    expect(peak - start, `engine RSS went from ${start} MB to ${peak} MB`).toBeLessThan(60);
    await expectSteady();
  });

  it('answers junk agents and sizes on /terminal, and junk frames on both channels, without touching the town', async () => {
    for (const query of ['agent=', 'agent=%zz%00%27%22%3B', `agent=${'a'.repeat(4000)}`, 'agent[]=x&agent=y', 'cols=abc&rows=-1e300']) {
      const answer = await exchange(port, upgradeRequest(`/terminal?${query}&token=${token}`, host), { untilClose: true });
      expect(answer.status, query).toBe(101);
      expect(answer.opcodes, query).toEqual([1, 8]); // the error frame, then close
    }
    const frames = ['', 'not json', '[]', 'null', '{"id":-1,"method":"town.status"}', '{"id":1}', JSON.stringify({ id: 2, method: 'x'.repeat(1000) }), '{"__proto__":{"id":3}}'];
    const api = new WebSocket(`ws://${host}/api?token=${token}`);
    await new Promise((r) => api.once('open', r));
    const answers: unknown[] = [];
    api.on('message', (d) => answers.push(JSON.parse(String(d))));
    for (const f of frames) api.send(f);
    api.send(Buffer.from([0xc3, 0x28, 0xff]));
    api.send(JSON.stringify({ id: 9, method: 'town.status', params: {} }));
    await waitFor('the API to answer every frame', () => answers.length === frames.length + 2);
    expect(answers.slice(0, -1).every((a) => (a as { error?: { code: string } }).error?.code === 'bad_frame' || (a as { error?: { code: string } }).error?.code === 'unknown_method')).toBe(true);
    expect(answers.at(-1)).toMatchObject({ id: 9, result: { revision: before.revision } });
    api.close();

    const term = new WebSocket(`ws://${host}/terminal?agent=${agent}&token=${token}`);
    const errors: string[] = [];
    term.on('message', (d, binary) => !binary && JSON.parse(String(d)).t === 'error' && errors.push(String(d)));
    await new Promise((r) => term.once('open', r));
    for (const f of ['junk', '{"input":""}', '{"resize":{"cols":1e9,"rows":2}}', '{"ack":-5}', '{"input":1}', Buffer.from([0xff]).toString('latin1')]) term.send(f);
    await waitFor('an error for each junk terminal frame', () => errors.length === 6);
    term.close();
    await expectSteady();
    expect(await screenOf(agent)).toContain('Proceed?');
  });
});

describe('the web host guards, in process', () => {
  let engine: Engine;
  const hosts: WebHost[] = [];
  let rendererDir: string;

  async function webHost(o: { host?: string; rendererDir?: string; streams?: StreamHost } = {}) {
    const h = new WebHost({ dispatcher: engine.dispatcher, streams: o.streams ?? engine.streams, rendererDir: o.rendererDir ?? rendererDir, host: o.host });
    hosts.push(h);
    await h.listen();
    return { h, port: Number(new URL(h.url).port) };
  }

  beforeAll(async () => {
    rendererDir = tempDir('renderer');
    fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Overseer test</title>');
    engine = Engine.open({ townDir: tempDir('guards') });
    await engine.start({ socket: false });
  });
  afterAll(async () => {
    for (const h of hosts) await h.close();
    await engine?.shutdown();
    removeTempDirs();
  });

  it('on a wildcard bind, answers only the machine\'s own names, and 421 to any other Host', async () => {
    const { h, port } = await webHost({ host: '0.0.0.0' });
    const own = [`127.0.0.1:${port}`, `localhost:${port}`, `${os.hostname().toLowerCase()}:${port}`];
    for (const list of Object.values(os.networkInterfaces())) for (const i of list ?? []) if (i.family === 'IPv4') own.push(`${i.address}:${port}`);
    for (const name of own) {
      expect((await exchange(port, getRequest('/', name))).status, name).toBe(401); // named right; the token still guards
      expect((await exchange(port, getRequest(`/?token=${h.token}`, name))).status, name).toBe(303);
    }
    for (const name of ['evil.example', `evil.example:${port}`, `rebind.attacker.example:${port}`, `0.0.0.1:${port}`]) {
      expect((await exchange(port, getRequest(`/?token=${h.token}`, name))).status, name).toBe(421);
      expect((await exchange(port, upgradeRequest(`/api?token=${h.token}`, name))).status, name).toBe(421);
    }
  });

  it('names its token cookie for its port, so two towns on one address keep theirs apart', async () => {
    const towns = [await webHost(), await webHost()];
    // A browser's jar: cookies are kept by name (and domain and path), never by port.
    const jar = new Map<string, string>();
    for (const { h, port } of towns) {
      const login = await exchange(port, getRequest(`/?token=${h.token}`, `127.0.0.1:${port}`));
      expect(login.status).toBe(303);
      const set = /^set-cookie: ([^=]+)=([^;]*);(.*)$/im.exec(login.head)!;
      expect(set[1]).toBe(`overseer_token_${port}`);
      expect(set[3]).toMatch(/HttpOnly; SameSite=Strict; Path=\//);
      jar.set(set[1], set[2]);
    }
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    for (const { port } of towns) {
      // Both towns see both cookies (the jar ignores ports) and each takes its own.
      expect((await exchange(port, getRequest('/board', `127.0.0.1:${port}`, { Cookie: cookie }))).status).toBe(200);
      expect((await exchange(port, upgradeRequest('/api', `127.0.0.1:${port}`, { Cookie: cookie }))).status).toBe(101);
    }
    // One town's cookie opens nothing in the other.
    const [a, b] = towns;
    const onlyA = `overseer_token_${a.port}=${jar.get(`overseer_token_${a.port}`)}`;
    expect((await exchange(b.port, getRequest('/board', `127.0.0.1:${b.port}`, { Cookie: onlyA }))).status).toBe(401);
  });

  it('redirects the token away to a path on this host, never to another', async () => {
    const { h, port } = await webHost();
    for (const target of [`//evil.example/?token=${h.token}`, `/\\evil.example/?token=${h.token}`, `///evil.example?token=${h.token}`]) {
      const answer = await exchange(port, getRequest(target, `127.0.0.1:${port}`));
      expect(answer.status, target).toBe(303);
      const location = /^location: (.*)$/im.exec(answer.head)![1];
      expect(location, target).toMatch(/^\/evil\.example\/?$/); // a path here, not the scheme-relative //evil.example
    }
  });

  it('answers 500 to a request that throws, and the next request as usual', async () => {
    // index.html as a directory: reading it throws inside the request handler.
    const broken = tempDir('broken-renderer');
    fs.mkdirSync(path.join(broken, 'index.html'));
    const { h, port } = await webHost({ rendererDir: broken });
    const logins = await exchange(port, getRequest(`/?token=${h.token}`, `127.0.0.1:${port}`));
    const cookie = /^set-cookie: ([^;]*)/im.exec(logins.head)![1];
    expect((await exchange(port, getRequest('/board', `127.0.0.1:${port}`, { Cookie: cookie }))).status).toBe(500);
    expect((await exchange(port, getRequest(`/?token=${h.token}`, `127.0.0.1:${port}`))).status).toBe(303);
  });

  it('detaches a terminal viewer that left while its attach was resolving', async () => {
    // The session's screen takes a while; the viewer is gone before it comes.
    let screenReady!: () => void;
    let detached = 0;
    const streams: StreamHost = {
      attach: async () => {
        await new Promise<void>((r) => (screenReady = r));
        const view = { screen: '', cols: 80, rows: 24, history: null };
        return { session: 's-1', ...view, input() {}, resize() {}, detach: () => void detached++, resync: async () => view };
      },
      watch: () => ({ revision: 0, stop() {} }),
    };
    const { h, port } = await webHost({ streams });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/terminal?agent=a&token=${h.token}`);
    await new Promise((r) => ws.once('open', r));
    await waitFor('the attach to start', () => screenReady);
    ws.close();
    await new Promise((r) => ws.once('close', r));
    screenReady();
    // Left attached, an unacked viewer's backlog would grow until it paused the agent.
    await waitFor('the viewer to detach', () => detached === 1);
  });
});
