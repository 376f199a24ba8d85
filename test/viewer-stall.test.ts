// A viewer that stops reading never stalls its agent: after the stall bound it leaves flow
// control (its backlog no longer pauses the PTY, and nothing more is sent to it); once it
// has caught up it gets a fresh screen, then live output. Real PTYs, sockets and engine.
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ControlServer, type StreamHost } from '../src/main/control/socket-server';
import { LineReader } from '../src/main/control/line-reader';
import { Engine } from '../src/main/engine/engine';
import { openTerminalLink } from '../src/main/hosts/ui-links';
import { SessionHost, type Viewer } from '../src/main/sessions/session-host';
import type { StreamFrame } from '../src/shared/frames';
import type { TerminalServerFrame } from '../src/shared/web-protocol';
import { makeRepo } from './helpers/repo';
import { FAST_AGENTS, overseerToken, removeTempDirs, tempDir, waitFor } from './helpers/town';

/** Short for the tests; the engine's default is VIEWER_STALL_MS. */
const STALL_MS = 300;
/** 30 MB of output, then a prompt that stays: the session outlives the flood. */
const FLOOD = 'head -c 30000000 /dev/zero | tr "\\0" "x"; echo; echo flood-done; read x; echo "got $x"; sleep 60';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => removeTempDirs());

function floodingHost(id: string): SessionHost {
  const h = new SessionHost({ stopGraceMs: 300, viewerStallMs: STALL_MS });
  cleanups.push(async () => {
    await h.stopAll('test over');
    await h.dispose();
  });
  h.spawn({ sessionId: id, agentId: `a/${id}`, file: '/bin/sh', args: ['-c', FLOOD], cwd: tempDir('pty'), env: { ...(process.env as Record<string, string>), PS1: '' } });
  return h;
}

const floodDone = (h: SessionHost, id: string) => waitFor('the flood to finish', async () => (await h.snapshot(id)).includes('flood-done'));

/** The engine's attach wiring, over one session of a bare session host. */
function streamsOver(h: SessionHost, session: string): StreamHost {
  return {
    attach: async (_caller, p, out) => {
      const a = await h.attach(session, { onData: out.data, onEnd: out.end, backlog: out.backlog, onResize: out.resized, onStalled: out.stalled }, { quickLines: p.quickLines });
      return { ...a, session, input: (d) => void h.write(session, d), resize: (c, r) => h.resize(session, c, r) };
    },
    watch: () => {
      throw new Error('no feed here');
    },
  };
}

describe('a viewer that stops reading', () => {
  it('is dropped from flow control at the session host, gets nothing meanwhile, and resyncs at a fresh screen', async () => {
    const h = floodingHost('s1');
    let unconsumed = 0;
    let stalls = 0;
    let sinceStall = '';
    const stuck: Viewer = {
      onData: (d) => {
        unconsumed += d.length;
        if (stalls > 0) sinceStall += d;
      },
      onEnd: () => {},
      backlog: () => unconsumed,
      onStalled: () => stalls++,
    };
    let healthy = '';
    const a = await h.attach('s1', stuck);
    await h.attach('s1', { onData: (d) => (healthy = (healthy + d).slice(-4096)), onEnd: () => {}, backlog: () => 0 });

    await floodDone(h, 's1');
    expect(stalls).toBe(1);
    expect(sinceStall).toBe('');
    expect(healthy).toContain('flood-done');

    unconsumed = 0;
    const view = await a.resync();
    expect(view.screen).toContain('flood-done');
    h.write('s1', 'back\r');
    await waitFor('live output after the resync', () => sinceStall.includes('got back'));
  });

  it('over a terminal link: unacked output stops, and acking what it had brings a fresh screen and live output', async () => {
    const h = floodingHost('s2');
    const frames: TerminalServerFrame[] = [];
    const link = await openTerminalLink(streamsOver(h, 's2'), 'a/s2', { cols: 120, rows: 30 }, (f) => frames.push(f), () => {});
    cleanups.push(() => link.close());
    await floodDone(h, 's2');

    const outputs = (fs: TerminalServerFrame[]) => fs.flatMap((f) => (f.t === 'output' ? [f.data] : []));
    const sent = outputs(frames).reduce((n, d) => n + d.length, 0);
    // What it holds is what it had when it was dropped: about the high watermark, not the flood.
    expect(sent).toBeLessThan(8 * 1024 * 1024);
    const mark = frames.length;
    link.receive(JSON.stringify({ ack: sent }));
    const screen = await waitFor('a fresh screen', () => frames.slice(mark).find((f) => f.t === 'screen'));
    expect(screen.t === 'screen' && screen.data).toContain('flood-done');

    h.write('s2', 'back\r');
    const text = () => Buffer.concat(outputs(frames.slice(frames.indexOf(screen)))).toString();
    await waitFor('live output after the screen', () => text().includes('got back'));
  });

  it('over the control socket: once the peer has read what it had, a fresh screen and live output follow', async () => {
    const h = floodingHost('s3');
    const engine = Engine.open({ townDir: tempDir('stall-socket') });
    const socketPath = path.join(tempDir('sock'), 'test.sock');
    const server = new ControlServer(socketPath, engine.dispatcher, streamsOver(h, 's3'));
    await server.listen();
    cleanups.push(async () => {
      await server.close();
      engine.closeOffline();
    });

    const frames: (StreamFrame | { id: number })[] = [];
    const socket = net.createConnection(socketPath);
    socket.setEncoding('utf8');
    const reader = new LineReader(64 * 1024 * 1024, (l) => frames.push(JSON.parse(l)), () => {});
    socket.on('data', (d: string) => reader.push(d));
    const token = overseerToken(engine.paths.dir);
    socket.write(JSON.stringify({ id: 1, token, method: 'session.attach', params: { agent: 'a/s3' } }) + '\n');
    await waitFor('the attach answer', () => frames.some((f) => 'id' in f && f.id === 1));
    socket.pause(); // and reads nothing more: the engine's unsent output grows until the PTY pauses

    await floodDone(h, 's3');
    const mark = frames.length;
    socket.resume();
    const screen = await waitFor('a fresh screen', () => frames.slice(mark).find((f): f is StreamFrame & { stream: 'screen' } => 'stream' in f && f.stream === 'screen'));
    expect(screen.data).toContain('flood-done');

    h.write('s3', 'back\r');
    const after = () => frames.slice(frames.indexOf(screen)).map((f) => ('stream' in f && f.stream === 'output' ? f.data : '')).join('');
    await waitFor('live output after the screen', () => after().includes('got back'));
    socket.destroy();
  });

  it('a feed watcher that stops reading is dropped once too much is unsent, and its watch stops', async () => {
    const engine = Engine.open({ townDir: tempDir('stall-feed') });
    const feed: { push: ((patch: unknown) => void) | null } = { push: null };
    const feedOnly: StreamHost = {
      attach: () => Promise.reject(new Error('no sessions here')),
      watch: (_after, push) => {
        feed.push = push;
        return { revision: 0, stop: () => (feed.push = null) };
      },
    };
    const socketPath = path.join(tempDir('sock'), 'test.sock');
    const server = new ControlServer(socketPath, engine.dispatcher, feedOnly);
    await server.listen();
    cleanups.push(async () => {
      await server.close();
      engine.closeOffline();
    });

    let answered = false;
    const socket = net.createConnection(socketPath);
    socket.setEncoding('utf8');
    const closed = new Promise((r) => socket.on('close', r));
    socket.on('error', () => {});
    socket.once('data', () => {
      answered = true;
      socket.pause(); // and reads nothing more
    });
    const token = overseerToken(engine.paths.dir);
    socket.write(JSON.stringify({ id: 1, token, method: 'feed.watch', params: {} }) + '\n');
    await waitFor('the watch answer', () => answered && feed.push);
    const big = { revision: 1, kind: 'bead', id: 'ap-0001', value: { title: 'p'.repeat(1024 * 1024) } };
    for (let i = 0; i < 64 && feed.push; i++) feed.push(big); // 64 MB of patches
    await waitFor('the watch to stop', () => feed.push === null);
    socket.resume(); // it reads what was sent, then finds the connection closed
    await closed;
  });

  it('in a running town: an attach that never reads does not hold up a flooding agent, and hears the end when it reads again', async () => {
    Object.assign(process.env, FAST_AGENTS);
    const dir = tempDir('stall-town');
    const engine = Engine.open({ townDir: dir, viewerStallMs: STALL_MS });
    await engine.start();
    cleanups.push(() => engine.shutdown());
    const api = engine.client();
    await api.call('rig.add', { name: 'app', path: makeRepo(tempDir('repo')), prefix: 'ap' });
    const bead = (await api.call('bead.create', { rig: 'app', title: 'Flood', scenario: 'flood' })) as { id: string };
    await api.call('sling', { bead: bead.id });
    const agent = await waitFor('the agent session', async () => {
      const agents = (await api.call('agent.list', {})) as { id: string; hook: string | null; session: string | null }[];
      return agents.find((a) => a.hook === bead.id && a.session)?.id;
    });

    const frames: StreamFrame[] = [];
    let answered = false;
    const socket = net.createConnection(engine.paths.socket);
    socket.setEncoding('utf8');
    const reader = new LineReader(64 * 1024 * 1024, (l) => {
      const f = JSON.parse(l);
      if ('stream' in f) frames.push(f);
      else answered = true;
    }, () => {});
    socket.on('data', (d: string) => reader.push(d));
    const token = overseerToken(dir);
    socket.write(JSON.stringify({ id: 1, token, method: 'session.attach', params: { agent } }) + '\n');
    await waitFor('the attach answer', () => answered);
    socket.pause();

    await waitFor('the flood bead to be done', async () => ['in_review', 'closed'].includes(((await api.call('bead.show', { id: bead.id })) as { status: string }).status), 50_000);
    socket.resume();
    await waitFor('the end of the attachment', () => frames.some((f) => f.stream === 'end'));
    socket.destroy();
  });
});
