// The UI's contract pieces without a browser: patch application (gap → resync), the
// WebSocket client against a real engine and web host, and the host's guards.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Backend } from '../src/shared/backend';
import type { BeadView, Patch, Snapshot } from '../src/shared/domain';
import { ApiError } from '../src/shared/errors';
import { WebBackend } from '../src/shared/web-backend';
import { Engine } from '../src/main/engine/engine';
import { WebHost } from '../src/main/hosts/web-host';
import { applyPatches, fromSnapshot } from '../src/renderer/src/state/feed';
import { syncTown, useTown } from '../src/renderer/src/state/town-store';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, tempDir, waitFor } from './helpers/town';

const bead = (id: string, title: string): BeadView => ({
  id, rig: 'r', type: 'task', title, body: '', status: 'open', priority: 2, labels: [], assignee: null, scenario: null, resolves: null, slung_to: null, held_at: null, held_reason: null,
  blocked_by: [], depends_on: [], ready: true, origin: { kind: 'user', id: 'overseer' }, dispatch_attempts: 0, close_reason: null,
  created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z', started_at: null, closed_at: null, usage: null, dispatch_paused: null,
});
const snapshot = (revision: number, beads: BeadView[]): Snapshot => ({ revision, frozen: null, rigs: [], beads, convoys: [], agents: [], merge_requests: [], mail: [], escalations: [], settings: [] });
const patch = (revision: number, value: BeadView | null, id = value?.id ?? 'x-1'): Patch => ({ revision, kind: 'bead', id, value });

describe('patch application', () => {
  it('applies patches in order, skips those already in the snapshot, and deletes on null', () => {
    const s = fromSnapshot(snapshot(5, [bead('a-1', 'one'), bead('a-2', 'two')]));
    const r = applyPatches(s, [patch(4, bead('a-1', 'stale')), patch(5, bead('a-1', 'also stale')), patch(6, bead('a-1', 'renamed')), patch(7, null, 'a-2')]);
    expect(r.kind).toBe('applied');
    expect(r.state.revision).toBe(7);
    expect(r.state.entities.bead.get('a-1')!.title).toBe('renamed');
    expect(r.state.entities.bead.get('a-2')).toBeUndefined();
    // Kinds no patch touched keep their identity (their selectors do not re-render).
    expect(r.state.entities.agent).toBe(s.entities.agent);
    // The input state is not mutated.
    expect(s.entities.bead.get('a-1')!.title).toBe('one');
  });

  it('keeps a 10,000-bead table immutable: a patch makes a new table sharing every untouched row', () => {
    const beads = Array.from({ length: 10_000 }, (_, i) => bead(`b-${i}`, `bead ${i}`));
    const s = fromSnapshot(snapshot(1, beads));
    expect(s.entities.bead.size).toBe(10_000);
    const r = applyPatches(s, [patch(2, bead('b-42', 'renamed')), patch(3, bead('b-new', 'added')), patch(4, null, 'b-7'), patch(5, null, 'never-there')]);
    const t = r.state.entities.bead;
    expect(t).not.toBe(s.entities.bead);
    expect(t.size).toBe(10_000);
    expect(t.get('b-42')!.title).toBe('renamed');
    expect(t.get('b-new')!.title).toBe('added');
    expect(t.has('b-7')).toBe(false);
    expect(s.entities.bead.get('b-42')!.title).toBe('bead 42');
    expect(s.entities.bead.has('b-7')).toBe(true);
    expect(t.get('b-9999')).toBe(s.entities.bead.get('b-9999'));
    const ids = t.list().map((b) => b.id);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(10_000);
    expect([...t.values()].length).toBe(10_000);
  });

  it('selects rows bucket by bucket, rescanning only what a patch changed', () => {
    const beads = Array.from({ length: 2000 }, (_, i) => ({ ...bead(`b-${i}`, `bead ${i}`), status: i % 100 === 0 ? ('failed' as const) : ('open' as const) }));
    const s = fromSnapshot(snapshot(1, beads));
    const memo = new WeakMap();
    let scanned = 0;
    const failed = (t: typeof s.entities.bead) => t.select(memo, (b) => (scanned++, b.status === 'failed' ? b.id : undefined)).sort();
    expect(failed(s.entities.bead)).toHaveLength(20);
    expect(scanned).toBe(2000);
    scanned = 0;
    const r = applyPatches(s, [patch(2, { ...bead('b-5', 'now failed'), status: 'failed' })]);
    expect(failed(r.state.entities.bead)).toContain('b-5');
    expect(failed(r.state.entities.bead)).toHaveLength(21);
    expect(scanned).toBeLessThan(200);
  });

  it('reports a gap instead of applying past a missing revision', () => {
    const s = fromSnapshot(snapshot(5, [bead('a-1', 'one')]));
    const r = applyPatches(s, [patch(6, bead('a-1', 'six')), patch(8, bead('a-1', 'eight'))]);
    expect(r).toMatchObject({ kind: 'gap', expected: 7, got: 8 });
    expect(r.state.revision).toBe(6);
  });

  it('returns the same state when nothing is new', () => {
    const s = fromSnapshot(snapshot(5, [bead('a-1', 'one')]));
    expect(applyPatches(s, [patch(3, bead('a-1', 'old'))]).state).toBe(s);
  });
});

describe('the web host and its WebSocket client', () => {
  let engine: Engine;
  let host: WebHost;
  let base: string;
  const rendererDir = tempDir('renderer');
  const backends: WebBackend[] = [];
  const client = (token?: string) => {
    const b = new WebBackend({ baseUrl: base.replace('http', 'ws'), token: token ?? host.token, socket: (url) => new WebSocket(url) as never, backoff: () => 50 });
    backends.push(b);
    return b;
  };

  beforeAll(async () => {
    fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Overseer test</title>');
    const dir = tempDir('web');
    engine = Engine.open({ townDir: dir });
    await engine.start({ socket: false });
    await engine.client().call('rig.add', { name: 'app', path: makeRepo(tempDir('repo')), prefix: 'ap' });
    host = new WebHost({ dispatcher: engine.dispatcher, streams: engine.streams, rendererDir });
    await host.listen();
    base = new URL(host.url).origin;
  });
  afterEach(() => {
    for (const b of backends.splice(0)) b.close();
  });
  afterAll(async () => {
    await host?.close();
    await engine?.shutdown();
    removeTempDirs();
  });

  it('answers typed calls, and typed errors that name the field', async () => {
    const api = client();
    const created = await api.call('bead.create', { rig: 'app', title: 'Over the wire' });
    expect(created.title).toBe('Over the wire');
    const err = await api.call('bead.create', { rig: 'app', title: '' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'invalid_input', field: 'title' });
    const unknown = await (api.call as (m: string, p: unknown) => Promise<unknown>)('bead.explode', {}).catch((e) => e);
    expect(unknown).toMatchObject({ code: 'unknown_method' });
    const missing = await api.call('bead.show', { id: 'ap-zzzz' }).catch((e) => e);
    expect(missing).toMatchObject({ code: 'not_found' });
  });

  it('refuses a wrong token and a foreign Origin, and serves the app only with the token', async () => {
    const refused = (url: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => (ws.close(), resolve(101)));
        ws.on('error', () => {});
      });
    const wsBase = base.replace('http', 'ws');
    expect(await refused(`${wsBase}/api?token=wrong`)).toBe(401);
    expect(await refused(`${wsBase}/api?token=${host.token}`, { Origin: 'http://evil.example' })).toBe(403);
    expect(await refused(`${wsBase}/api?token=${host.token}`, { Origin: base })).toBe(101);

    expect((await fetch(`${base}/`)).status).toBe(401);
    const login = await fetch(`${base}/?token=${host.token}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await fetch(`${base}/board`, { headers: { cookie: cookie.split(';')[0] } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(await page.text()).toContain('Overseer test');
    const escape = await fetch(`${base}/%2e%2e/%2e%2e/%2e%2e/etc/passwd`, { headers: { cookie: cookie.split(';')[0] } });
    expect(await escape.text()).not.toContain('root:');
  });

  it('keeps a store in step through the feed, and resyncs from a snapshot after a gap', async () => {
    const real = client();
    let dropNext = false;
    // A transport that loses one feed frame, as a lagging client would.
    const lossy: Backend = {
      call: (m, p) => real.call(m, p),
      openTerminal: (a, s, h) => real.openTerminal(a, s, h),
      onConnection: (l) => real.onConnection(l),
      watchFeed: (onPatches, onReset) =>
        real.watchFeed((patches) => {
          if (dropNext) {
            dropNext = false;
            return;
          }
          onPatches(patches);
        }, onReset),
    };
    await syncTown(lossy);
    const api = engine.client();
    const a = (await api.call('bead.create', { rig: 'app', title: 'First' })) as BeadView;
    await waitFor('the first bead in the store', () => useTown.getState().entities.bead.get(a.id));
    const resyncs = useTown.getState().resyncs;
    dropNext = true;
    const b = (await api.call('bead.create', { rig: 'app', title: 'Lost in transit' })) as BeadView;
    const c = (await api.call('bead.create', { rig: 'app', title: 'After the gap' })) as BeadView;
    await waitFor('the store to resync', () => useTown.getState().entities.bead.get(c.id));
    const state = useTown.getState();
    expect(state.resyncs).toBe(resyncs + 1);
    expect(state.entities.bead.get(b.id)!.title).toBe('Lost in transit');
    expect(state.revision).toBe(engine.store.revision);
  });
});

describe('a web client across an engine restart', () => {
  const rendererDir = tempDir('renderer');
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Overseer test</title>');
  const dir = tempDir('restart');
  const token = 'the-town-web-token-for-this-test';
  let engine: Engine | null = null;
  let host: WebHost | null = null;
  const serve = async (ports?: number[]) => {
    engine = Engine.open({ townDir: dir });
    await engine.start({ socket: false });
    host = new WebHost({ dispatcher: engine.dispatcher, streams: engine.streams, rendererDir, token });
    await host.listen(ports);
    return host.port;
  };
  const stopServing = async () => {
    await host?.close();
    await engine?.shutdown();
  };
  afterAll(stopServing);

  it('fails calls at once while the engine is away (none is replayed), says why, and resyncs by snapshot once it is back', async () => {
    const port = await serve();
    await engine!.client().call('rig.add', { name: 'app', path: makeRepo(tempDir('repo')), prefix: 'ap' });
    const b = new WebBackend({ baseUrl: `ws://127.0.0.1:${port}`, token, socket: (url) => new WebSocket(url) as never, backoff: () => 400 });
    try {
      let seen: { state: string; attempt: number; reason: string | null } = { state: '', attempt: 0, reason: null };
      b.onConnection((state, d) => (seen = { state, ...d }));
      let resets = 0;
      await b.watchFeed(() => {}, () => resets++);

      await stopServing();
      await waitFor('the client to notice', () => seen.state === 'reconnecting');
      expect(seen.reason).toBe('the town engine stopped');
      await waitFor('a second attempt', () => seen.attempt >= 2);
      // Refused before any I/O happens, not kept to be sent to whatever engine answers next.
      let away: unknown = 'pending';
      b.call('bead.create', { rig: 'app', title: 'Clicked while away' }).then((r) => (away = r), (e) => (away = e));
      await new Promise((r) => setImmediate(r));
      expect(away).toMatchObject({ code: 'engine_not_running' });

      await serve([port]);
      await waitFor('the client to reconnect', () => seen.state === 'open');
      expect(seen).toMatchObject({ attempt: 0, reason: null });
      await waitFor('the owner to be told to resync', () => resets === 1);
      const beads = await b.call('bead.list', {});
      expect(beads.map((x) => x.title)).not.toContain('Clicked while away');
      expect((await b.call('bead.create', { rig: 'app', title: 'After the restart' })).title).toBe('After the restart');
    } finally {
      b.close();
    }
  });
});
