// `town serve` listens where it did last time, with the same web token, so a tab left open
// finds its town again after a restart; a port taken meanwhile is said, not silently swapped.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { overseerHome, townPaths } from '../src/main/engine/town-dir';
import { removeTempDirs, ServedTown, tempDir, town } from './helpers/town';

const running: ServedTown[] = [];
const blockers: net.Server[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
  for (const b of blockers.splice(0)) await new Promise((r) => b.close(r));
});
afterAll(() => removeTempDirs());

async function newTown(label: string): Promise<string> {
  const dir = tempDir(label);
  expect((await town(dir, ['init', dir])).code).toBe(0);
  return dir;
}

/** Serves the town until it prints its URL; returns the URL. */
async function serve(dir: string, args: string[] = []): Promise<{ served: ServedTown; url: URL }> {
  const served = new ServedTown(dir);
  running.push(served);
  await served.start(args);
  return { served, url: new URL(served.url) };
}

async function stop(served: ServedTown) {
  const code = await served.stop();
  // A failure says how the engine ended and what it printed last.
  expect(code, `exit ${code} signal ${served.exitSignal}\n${served.log.slice(-2000)}`).toBe(0);
  running.splice(running.indexOf(served), 1);
}

/** Another program listening on `port` of the loopback address. */
async function occupy(port: number): Promise<void> {
  const blocker = net.createServer();
  await new Promise<void>((resolve, reject) => blocker.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  blockers.push(blocker);
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('town serve, served again', () => {
  it('listens on the same port with the same token, kept 0600 outside the town', async () => {
    const dir = await newTown('same-port');
    const first = await serve(dir);
    await stop(first.served);
    const second = await serve(dir);
    expect(second.url.port).toBe(first.url.port);
    expect(second.url.searchParams.get('token')).toBe(first.url.searchParams.get('token'));
    expect(second.served.log).not.toMatch(/in use by another program/);

    // The port is remembered in the town dir; the token beside the overseer's, never in the town.
    const p = townPaths(dir);
    expect(JSON.parse(fs.readFileSync(p.webAddress, 'utf8'))).toEqual({ port: Number(first.url.port) });
    expect(p.webToken.startsWith(path.join(overseerHome(), 'tokens') + path.sep)).toBe(true);
    expect(fs.statSync(p.webToken).mode & 0o777).toBe(0o600);
    const token = fs.readFileSync(p.webToken, 'utf8').trim();
    expect(token).toBe(first.url.searchParams.get('token'));
    const underTown = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    for (const e of underTown) expect(fs.readFileSync(path.join(e.parentPath, e.name)).includes(token), e.name).toBe(false);

    // The cookie a tab got from the first run opens the second.
    const login = await fetch(first.url, { redirect: 'manual' });
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    expect((await fetch(`${second.url.origin}/`, { headers: { cookie } })).status).toBe(200);
  });

  it('says so and takes another port when its last one is in use, then keeps the new one', async () => {
    const dir = await newTown('taken-port');
    const first = await serve(dir);
    await stop(first.served);
    const last = Number(first.url.port);
    await occupy(last);

    const second = await serve(dir);
    expect(Number(second.url.port)).not.toBe(last);
    expect(second.served.log).toContain(`port ${last}, where this town was served last, is in use by another program; serving on port ${second.url.port} instead`);
    expect((await fetch(second.url, { redirect: 'manual' })).status).toBe(303);
    await stop(second.served);

    const third = await serve(dir);
    expect(third.url.port).toBe(second.url.port);
  });

  it('listens on --port N when asked, and keeps that one for next time', async () => {
    const dir = await newTown('asked-port');
    const port = await freePort();
    const first = await serve(dir, ['--port', String(port)]);
    expect(Number(first.url.port)).toBe(port);
    await stop(first.served);
    const second = await serve(dir);
    expect(Number(second.url.port)).toBe(port);
  });

  it('refuses --port N when N is in use, rather than serving elsewhere', async () => {
    const dir = await newTown('asked-taken');
    const port = await freePort();
    await occupy(port);
    const r = await town(dir, ['serve', '--port', String(port)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  });
});
