// Hostile frames at the control socket of a real `town serve`: malformed, oversized,
// smuggled, cut off, and peers that never read. Each case checks that the engine stays
// up, answers the next request, and that no state changed.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineReader } from '../src/main/control/line-reader';
import { SocketClient } from '../src/main/control/socket-client';
import { makeRepo } from './helpers/repo';
import { overseerToken, removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

let dir: string;
let served: ServedTown;
let client: SocketClient;
let socketPath: string;
let token: string;

beforeAll(async () => {
  const base = tempDir('hostile');
  dir = path.join(base, 'town');
  await town(dir, ['init', dir]);
  await townJson(dir, 'rig', 'add', 'app', makeRepo(path.join(base, 'repo')), '--prefix', 'ap');
  await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'existing');
  served = new ServedTown(dir);
  await served.start();
  socketPath = path.join(dir, 'town.sock');
  token = overseerToken(dir);
  client = new SocketClient(socketPath, token);
});

afterAll(async () => {
  client?.close();
  await served?.stop();
  removeTempDirs();
});

type Frame = { id?: number | null; result?: any; error?: { code: string; message: string; field?: string } };

/** A raw connection that records every frame the engine sends. */
class Raw {
  readonly socket: net.Socket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  constructor(read = true) {
    this.socket = net.createConnection(socketPath);
    this.socket.on('error', () => {});
    this.closed = new Promise((r) => this.socket.on('close', () => r()));
    const reader = new LineReader(64 * 1024 * 1024, (l) => this.frames.push(JSON.parse(l) as Frame), () => {});
    if (read) {
      this.socket.setEncoding('utf8');
      this.socket.on('data', (d: string) => reader.push(d));
    }
  }
  write(data: string | Buffer) {
    this.socket.write(data);
  }
  request(id: number, method: string, params: unknown = {}) {
    this.write(JSON.stringify({ id, token, method, params }) + '\n');
  }
  /** Waits for the answer to `id`; returns every frame received up to it. */
  async until(id: number): Promise<Frame[]> {
    await waitFor(`the answer to ${id}`, () => this.frames.some((f) => f.id === id), 20_000, 20);
    return this.frames.slice(0, this.frames.findIndex((f) => f.id === id) + 1);
  }
  close() {
    this.socket.destroy();
  }
}

const state = async () => {
  const s = (await client.call('town.snapshot', {})) as { revision: number; beads: { title: string }[] };
  return { revision: s.revision, beads: s.beads.map((b) => b.title).sort() };
};
/** User + system CPU time of the engine, in clock ticks (1/100 s). */
const engineCpuTicks = () => {
  const fields = fs.readFileSync(`/proc/${served.child!.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
const engineRssMb = async () => ((await client.call('town.status', {})) as { memory: { rss_mb: number } }).memory.rss_mb;

/** The engine is up (the same process) and answers on a fresh connection. */
async function stillServing() {
  const status = (await client.call('town.status', {})) as { pid: number };
  expect(status.pid).toBe(served.child!.pid);
}

describe('hostile frames at the control socket', () => {
  it('answers non-object and malformed JSON with bad_frame, then the next request', async () => {
    const before = await state();
    const raw = new Raw();
    const junk = ['42', '"a string"', 'null', 'true', '[]', '{}', '{"id":1', '\u0000\u0001\u0002', '{"id":1,"token":"x","method":"town.status","extra":1}'];
    for (const j of junk) raw.write(j + '\n');
    raw.request(100, 'town.status');
    const frames = await raw.until(100);
    expect(frames.slice(0, -1).map((f) => f.error?.code)).toEqual(junk.map(() => 'bad_frame'));
    expect(frames.at(-1)!.result.pid).toBe(served.child!.pid);
    raw.close();
    expect(await state()).toEqual(before);
  });

  it('keeps its error answers short whatever the frame echoes', async () => {
    const raw = new Raw();
    const key = 'k'.repeat(900_000);
    raw.write(`{"id":1,"token":"${token}","method":"town.status","${key}":1}\n`);
    raw.write(`{"id":2,"token":"${token}","method":"town.config","params":{"set":{"${key}":1}}}\n`);
    raw.request(108, 'town.status');
    const frames = await raw.until(108);
    expect(frames.map((f) => f.error?.code ?? 'answer')).toEqual(['bad_frame', 'invalid_input', 'answer']);
    for (const f of frames) expect(JSON.stringify(f).length).toBeLessThan(2000);
    raw.close();
  });

  it('refuses a 10 MB line once, discards the rest of it, and answers the next frame on the same connection', async () => {
    const before = await state();
    const raw = new Raw();
    raw.write('x'.repeat(10 * 1024 * 1024) + '\n');
    raw.request(101, 'town.status');
    const frames = await raw.until(101);
    expect(frames.map((f) => f.error?.code ?? 'answer')).toEqual(['bad_frame', 'answer']);
    expect(frames[0].error!.message).toMatch(/larger than/);
    raw.close();
    expect(await state()).toEqual(before);
  });

  it('never runs a frame smuggled after the 1 MB cut of an oversized line', async () => {
    const before = await state();
    const raw = new Raw();
    // The junk is refused at the 1 MB cut (that answer comes at once); the frame that
    // follows is still part of the refused line.
    raw.write('y'.repeat(1024 * 1024 + 512));
    await waitFor('the oversized line to be refused', () => raw.frames.length > 0);
    raw.write(JSON.stringify({ id: 7, token, method: 'bead.create', params: { rig: 'app', title: 'smuggled' } }) + '\n');
    raw.request(102, 'town.status');
    const frames = await raw.until(102);
    expect(frames.map((f) => f.error?.code ?? 'answer')).toEqual(['bad_frame', 'answer']);
    expect(frames.some((f) => f.id === 7)).toBe(false);
    raw.close();
    expect((await state()).beads).not.toContain('smuggled');
    expect(await state()).toEqual(before);
  });

  it('forgets a frame cut off by a closing client', async () => {
    const before = await state();
    const raw = new Raw();
    raw.write(JSON.stringify({ id: 8, token, method: 'bead.create', params: { rig: 'app', title: 'half a frame' } }).slice(0, -3));
    await new Promise((r) => raw.socket.once('drain', r).write('', r));
    raw.close();
    await raw.closed;
    await stillServing();
    expect(await state()).toEqual(before);
  });

  it('answers invalid UTF-8 as a bad frame or a bad token', async () => {
    const before = await state();
    const raw = new Raw();
    raw.write(Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a]));
    raw.write(Buffer.concat([Buffer.from('{"id":9,"token":"'), Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), Buffer.from('","method":"town.status"}\n')]));
    raw.request(103, 'town.status');
    const frames = await raw.until(103);
    expect(frames.map((f) => f.error?.code ?? 'answer')).toEqual(['bad_frame', 'unauthorized', 'answer']);
    raw.close();
    expect(await state()).toEqual(before);
  });

  it('survives deep nesting in a frame and in its params', async () => {
    const before = await state();
    const raw = new Raw();
    raw.write('['.repeat(100_000) + '\n');
    // Written by hand: JSON.stringify itself overflows the stack at this depth.
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    raw.write(`{"id":10,"token":"${token}","method":"bead.create","params":{"rig":"app","title":${deep}}}\n`);
    raw.write(`{"id":11,"token":"${token}","method":"town.config","params":{"set":{"dispatch_backoff_s":${deep}}}}\n`);
    raw.write(`{"id":12,"token":"${token}","method":"town.status","params":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}\n`);
    raw.request(104, 'town.status');
    const frames = await raw.until(104);
    expect(frames.map((f) => f.error?.code ?? 'answer')).toEqual(['bad_frame', 'invalid_input', 'invalid_input', 'invalid_input', 'answer']);
    raw.close();
    expect(await state()).toEqual(before);
  });

  it('refuses ids that are not exact non-negative integers', async () => {
    const before = await state();
    const raw = new Raw();
    const ids = ['1e308', '9007199254740993', '1e999', '-1', '1.5', '"7"', '123456789012345678901234567890'];
    for (const id of ids) raw.write(`{"id":${id},"token":"${token}","method":"bead.create","params":{"rig":"app","title":"by a bad id"}}\n`);
    raw.request(105, 'town.status');
    const frames = await raw.until(105);
    expect(frames.slice(0, -1).map((f) => [f.error?.code, f.error?.field])).toEqual(ids.map(() => ['bad_frame', 'id']));
    raw.close();
    expect(await state()).toEqual(before);
  });

  it('closes a tokenless connection after a burst of bad frames; a connection with the token keeps serving', async () => {
    const anon = new Raw();
    for (let i = 0; i < 50; i++) anon.write('not json\n');
    await anon.closed;
    const errors = anon.frames.filter((f) => f.error).length;
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(50);

    const known = new Raw();
    known.request(106, 'town.status');
    await known.until(106);
    for (let i = 0; i < 50; i++) known.write('not json\n');
    known.request(107, 'town.status');
    const frames = await known.until(107);
    expect(frames.filter((f) => f.error?.code === 'bad_frame')).toHaveLength(50);
    known.close();
    await stillServing();
  });

  it('keeps its memory bounded and other clients answered while a tokenless client floods bad lines and never reads', async () => {
    const before = await state();
    const rss = await engineRssMb();
    const attacker = new Raw(false);
    const lines = JSON.stringify({ id: 1, method: 'bead.create' }).concat('\n').repeat(10_000);
    let written = 0;
    // 500k lines (17 MB) — the old engine buffered ~300 MB of answers for them.
    while (written < 500_000 && !attacker.socket.destroyed) {
      if (!attacker.socket.write(lines)) await Promise.race([new Promise((r) => attacker.socket.once('drain', r)), attacker.closed]);
      written += 10_000;
      if (written % 100_000 === 0) await stillServing();
    }
    expect(written).toBeLessThan(500_000);
    await attacker.closed;
    expect(await engineRssMb()).toBeLessThan(rss + 100);
    await stillServing();
    expect(await state()).toEqual(before);
  });

  it('stops reading a client with the token that floods requests and never reads the answers', async () => {
    const before = await state();
    const rss = await engineRssMb();
    const attacker = new Raw(false);
    // 500k requests (28 MB); their answers would take ~60 MB, and the old engine read them all.
    // Small batches: the attacker's unsent count falls as the engine reads each one.
    const batch = JSON.stringify({ id: 1, token, method: 'no.such.method' }).concat('\n').repeat(1000);
    for (let i = 0; i < 500; i++) attacker.socket.write(batch);
    // Settled: the engine takes no more of the flood and is idle (a busy engine may still read on).
    let last = { unsent: -1, cpu: 0 };
    await waitFor('the engine to settle', async () => {
      await stillServing();
      const now = { unsent: attacker.socket.writableLength, cpu: engineCpuTicks() };
      const settled = now.unsent === last.unsent && now.cpu - last.cpu <= 10; // under 20% of a core
      last = now;
      return settled;
    }, 120_000, 500);
    // The engine stopped reading: most of the flood is still in the attacker's own buffer.
    expect(attacker.socket.writableLength).toBeGreaterThan(10 * 1024 * 1024);
    expect(await engineRssMb()).toBeLessThan(rss + 100);
    attacker.close();
    await stillServing();
    expect(await state()).toEqual(before);
  });
});

describe('the line reader (both ends of the socket)', () => {
  const read = (max: number, chunks: string[]) => {
    const out: string[] = [];
    let refused = 0;
    const r = new LineReader(max, (l) => out.push(l), () => refused++);
    for (const c of chunks) r.push(c);
    return { out, refused };
  };

  it('joins lines across chunks and skips blank ones', () => {
    expect(read(100, ['ab', 'c\n\n  \nd', 'e\nf'])).toEqual({ out: ['abc', 'de'], refused: 0 });
  });

  it('refuses an oversized line once and discards it to its newline, in one chunk or many', () => {
    expect(read(10, ['x'.repeat(25) + '{"ok":1}\n{"b":2}\n'])).toEqual({ out: ['{"b":2}'], refused: 1 });
    expect(read(10, ['x'.repeat(8), 'x'.repeat(8), '{"ok":1}', 'x\n', 'next\n'])).toEqual({ out: ['next'], refused: 1 });
  });

  it('counts bytes, not characters', () => {
    expect(read(10, ['é'.repeat(6) + '\n', 'é'.repeat(5) + '\n'])).toEqual({ out: ['é'.repeat(5)], refused: 1 });
  });
});

describe('the client side', () => {
  it('fails a call whose answer is over the limit instead of hanging or reading the rest as frames', async () => {
    const fakePath = path.join(tempDir('fake-engine'), 'fake.sock');
    const fake = net.createServer((s) => {
      s.once('data', () => {
        // An answer larger than the client's 64 MB limit, whose tail looks like the answer.
        s.write('"' + 'z'.repeat(65 * 1024 * 1024) + JSON.stringify({ id: 1, result: 'smuggled' }) + '\n');
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => fake.listen(fakePath, r));
    const c = new SocketClient(fakePath, 'token');
    const outcome = await c.call('town.status', {}).then((v) => ({ resolved: v }), (e: Error) => ({ rejected: e.message }));
    c.close();
    fake.close();
    expect(outcome).toEqual({ rejected: expect.stringMatching(/larger than/) });
  });
});
