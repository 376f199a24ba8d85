// The CLI's failures, run as a real process: one sentence on stderr naming what was wrong, no
// stack trace, and the documented exit code (1 the engine refused, 2 usage, 3 no engine).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processStartTime } from '../src/main/sessions/process-tree';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, ServedTown, tempDir, town, townJson, type CliResult } from './helpers/town';

let base: string;
let dir: string;
let repo: string;

beforeAll(async () => {
  base = tempDir('cli-errors');
  dir = path.join(base, 'town');
  repo = makeRepo(path.join(base, 'repo'));
  await townJson(dir, 'init', dir);
  await townJson(dir, 'rig', 'add', 'app', repo, '--prefix', 'ap');
});

afterAll(() => removeTempDirs());

/** Asserts the failure a user sees: the exit code, and one line that names `mentions`. */
function failed(r: CliResult, code: number, ...mentions: (string | RegExp)[]) {
  const context = `exit ${r.code}\n${r.stderr}`;
  expect(r.code, context).toBe(code);
  expect(r.stderr, context).not.toContain('    at ');
  expect(r.stderr.trimEnd().split('\n'), context).toHaveLength(1);
  expect(r.stderr, context).toMatch(/^town: /);
  for (const m of mentions) expect(r.stderr, context).toMatch(m);
  expect(r.stdout).toBe('');
}

const beadTitles = async () => (await townJson<{ title: string }[]>(dir, 'bead', 'list')).map((b) => b.title);

describe('town init', () => {
  it('names the directory that cannot hold a town', async () => {
    failed(await town(dir, ['init', '/dev/null/town']), 2, '/dev/null/town', 'not a directory');
    const file = path.join(base, 'a-file');
    fs.writeFileSync(file, 'not a town\n');
    failed(await town(dir, ['init', file]), 2, file, 'a file is in the way');
    expect(fs.readFileSync(file, 'utf8')).toBe('not a town\n');
    failed(await town(dir, ['init', dir]), 2, 'already a town');
    failed(await town(dir, ['demo', dir]), 2, 'already a town');
  });
});

describe('numbers on the command line', () => {
  it('refuses what is not a whole number in digits, naming the flag, and creates nothing', async () => {
    for (const bad of ['', '0x3', '1e0', '2.0', ' 3', 'three']) {
      failed(await town(dir, ['bead', 'create', '--rig', 'app', '--title', `priority ${JSON.stringify(bad)}`, '--priority', bad]), 2, '--priority');
    }
    failed(await town(dir, ['events', '--since', 'abc']), 2, '--since');
    failed(await town(dir, ['events', '--limit', '0']), 2, '--limit');
    failed(await town(dir, ['rig', 'add', 'other', repo, '--max-polecats', '3x']), 2, '--max-polecats');
    expect((await beadTitles()).filter((t) => t.startsWith('priority'))).toEqual([]);
  });

  it('reads a negative number as a value, so the engine answers naming the field', async () => {
    failed(await town(dir, ['bead', 'create', '--rig', 'app', '--title', 'minus one', '--priority', '-1']), 1, '[priority]');
    failed(await town(dir, ['config', 'set', 'max_polecats_town', '-5']), 1, '[set.max_polecats_town]');
    expect(await beadTitles()).not.toContain('minus one');
    const ok = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', '-1 is a fine title', '--priority', '3');
    expect(ok).toMatchObject({ title: '-1 is a fine title', priority: 3 });
  });
});

describe('flags and commands', () => {
  it('names the unknown flag, the flag without a value, and the flag another command takes', async () => {
    failed(await town(dir, ['bead', 'list', '--bogus']), 2, '--bogus');
    failed(await town(dir, ['bead', 'list', '--constructor', 'x']), 2, '--constructor');
    failed(await town(dir, ['bead', 'create', '--title']), 2, '--title needs a value');
    failed(await town(dir, ['bead', 'create', '--rig', '--title', 'x']), 2, '--rig needs a value');
    failed(await town(dir, ['bead', 'list', '--json=yes']), 2, '--json takes no value');
    const id = (await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'stays open')).id;
    // `--status` belongs to `bead list` and `done`; ignoring it here would look like a close.
    failed(await town(dir, ['bead', 'update', id, '--status', 'closed']), 2, 'bead update', '--status');
    expect((await townJson(dir, 'bead', 'show', id)).status).toBe('open');
  });

  it('names unknown commands and missing arguments', async () => {
    failed(await town(dir, ['frobnicate']), 2, 'frobnicate');
    failed(await town(dir, ['constructor']), 2, 'constructor');
    failed(await town(dir, ['bead']), 2, 'needs a subcommand', 'create');
    failed(await town(dir, ['bead', 'show']), 2, 'town bead show ID');
    failed(await town(dir, ['rig', 'add', 'ghost', path.join(base, 'no-such-repo')]), 1, 'no-such-repo', '[path]');
    failed(await town(path.join(base, 'nowhere'), ['bead', 'list']), 2, 'is not a town');
  });

  it('says there is no engine for commands that need one', async () => {
    failed(await town(dir, ['attach', 'app/polecats/nobody']), 3, 'town serve');
    failed(await town(dir, ['mail', 'inbox']), 3, 'town serve');
  });
});

describe('the town lock', () => {
  it('a planning command while another live process holds the lock exits 3 naming that process', async () => {
    const holder = spawn('sleep', ['120'], { stdio: 'ignore' });
    const pid = holder.pid!;
    const lock = path.join(dir, 'town.lock');
    fs.writeFileSync(lock, JSON.stringify({ pid, start: processStartTime(pid) }));
    try {
      failed(await town(dir, ['bead', 'list']), 3, `process ${pid}`);
      failed(await town(dir, ['serve', '--no-web']), 1, `process ${pid}`);
    } finally {
      fs.rmSync(lock, { force: true });
      holder.kill();
    }
    expect((await town(dir, ['bead', 'list'])).code).toBe(0);
  });

  it('a second `town serve` on a served town names the serving process', async () => {
    const served = new ServedTown(dir);
    await served.start();
    try {
      failed(await town(dir, ['serve', '--no-web']), 1, 'already open', `process ${served.child!.pid}`);
      expect((await townJson(dir, 'status')).pid).toBe(served.child!.pid);
    } finally {
      expect(await served.stop()).toBe(0);
    }
  });
});

describe('town serve that cannot start', () => {
  it('exits with one sentence when the socket cannot be made, instead of hanging', async () => {
    const sock = path.join(dir, 'town.sock');
    fs.mkdirSync(path.join(sock, 'in-the-way'), { recursive: true });
    try {
      failed(await town(dir, ['serve', '--no-web']), 1, sock);
    } finally {
      fs.rmSync(sock, { recursive: true, force: true });
    }
    expect((await town(dir, ['bead', 'list'])).code).toBe(0);
  });

  it('names a town path too long for its Unix socket', async () => {
    const deep = path.join(base, 'd'.repeat(60), 'e'.repeat(60));
    await townJson(deep, 'init', deep);
    failed(await town(deep, ['serve', '--no-web']), 2, 'socket path', '107 bytes');
  });
});
