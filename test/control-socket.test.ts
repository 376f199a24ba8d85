// Bad input at the control socket: malformed frames, unknown methods, invalid fields and
// wrong tokens get typed errors, change nothing, and the engine keeps serving.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SocketClient } from '../src/main/control/socket-client';
import { ApiError } from '../src/shared/errors';
import { makeRepo } from './helpers/repo';
import { townPaths } from '../src/main/engine/town-dir';
import { overseerToken, removeTempDirs, ServedTown, tempDir, town, townJson } from './helpers/town';

let dir: string;
let served: ServedTown;
let client: SocketClient;
let socketPath: string;

beforeAll(async () => {
  const base = tempDir('socket');
  dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  await town(dir, ['init', dir]);
  await townJson(dir, 'rig', 'add', 'app', repo, '--prefix', 'ap');
  await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'existing');
  served = new ServedTown(dir);
  await served.start();
  socketPath = path.join(dir, 'town.sock');
  client = new SocketClient(socketPath, overseerToken(dir));
});

afterAll(async () => {
  client?.close();
  await served?.stop();
  removeTempDirs();
});

async function rejects(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected the call to fail');
}

const snapshotRevisionAndBeads = async () => {
  const s = (await client.call('town.snapshot', {})) as { revision: number; beads: unknown[] };
  return { revision: s.revision, beads: s.beads.length };
};

describe('the control socket', () => {
  it('is a Unix socket only its owner can open', () => {
    const st = fs.statSync(socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(fs.statSync(townPaths(dir).token).mode & 0o777).toBe(0o600);
  });

  it('answers malformed frames with bad_frame and keeps serving', async () => {
    const before = await snapshotRevisionAndBeads();
    const notJson = await client.raw('{this is not json\n');
    expect(notJson).toMatchObject({ id: null, error: { code: 'bad_frame' } });
    const noToken = await client.raw(JSON.stringify({ id: 7, method: 'town.status' }) + '\n');
    expect(noToken).toMatchObject({ id: 7, error: { code: 'bad_frame', field: 'token' } });
    const wrongShape = await client.raw(JSON.stringify([1, 2, 3]) + '\n');
    expect(wrongShape).toMatchObject({ error: { code: 'bad_frame' } });
    expect(await snapshotRevisionAndBeads()).toEqual(before);
  });

  it('rejects a wrong token with unauthorized', async () => {
    const intruder = new SocketClient(socketPath, 'not-the-token');
    const err = await rejects(intruder.call('bead.create', { rig: 'app', title: 'sneaky' }));
    intruder.close();
    expect(err.code).toBe('unauthorized');
    const beads = (await client.call('bead.list', {})) as { title: string }[];
    expect(beads.map((b) => b.title)).not.toContain('sneaky');
  });

  it('rejects unknown methods', async () => {
    const err = await rejects(client.call('bead.explode', {}));
    expect(err.code).toBe('unknown_method');
  });

  it('names the invalid field and changes nothing', async () => {
    const before = await snapshotRevisionAndBeads();
    const cases: [string, unknown, string][] = [
      ['bead.create', { rig: 'app', title: '' }, 'title'],
      ['bead.create', { rig: 'app', title: 'x', priority: 9 }, 'priority'],
      ['bead.create', { rig: 'app', title: 'x', colour: 'red' }, 'colour'],
      ['bead.create', { rig: 'nope', title: 'x' }, 'rig'],
      ['bead.create', { rig: 'app', title: 'x', after: ['ap-zzzz'] }, 'after.0'],
      ['bead.show', { id: 'not an id' }, 'id'],
      ['rig.add', { name: 'r2', path: '/definitely/not/here' }, 'path'],
      ['convoy.start', { convoy: 'hq-zzzz' }, 'convoy'],
    ];
    for (const [method, params, field] of cases) {
      const err = await rejects(client.call(method, params));
      expect([err.code, err.field], `${method} ${JSON.stringify(params)}`).toEqual([err.code === 'not_found' ? 'not_found' : 'invalid_input', field]);
    }
    expect(await snapshotRevisionAndBeads()).toEqual(before);
  });

  it('rejects a dependency cycle with a clear error', async () => {
    const a = (await client.call('bead.create', { rig: 'app', title: 'a' })) as { id: string };
    const b = (await client.call('bead.create', { rig: 'app', title: 'b', after: [a.id] })) as { id: string };
    const err = await rejects(client.call('dep.add', { bead: a.id, depends_on: b.id }));
    expect(err.code).toBe('conflict');
    expect(err.message).toMatch(/cycle/);
  });

  it('still serves after all of that', async () => {
    const status = (await client.call('town.status', {})) as { pid: number };
    expect(status.pid).toBe(served.child!.pid);
  });

  it('the CLI says clearly when no engine runs for commands that need one', async () => {
    const other = tempDir('idle');
    await town(other, ['init', other]);
    const r = await town(other, ['stop', 'app/polecats/quartz']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no engine is serving this town/);
  });
});
