// What agents put in the town: work beads only (convoys and merge requests come from their own
// commands), and text that reaches the overseer's terminal escaped, never as control sequences.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typedClient } from '../src/shared/api';
import { OVERSEER } from '../src/shared/domain';
import { ApiError } from '../src/shared/errors';
import { Engine } from '../src/main/engine/engine';
import { createAgent } from '../src/main/store/agents';
import { table } from '../src/cli/format';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const AGENT = 'app/polecats/mallory';
// A window-title change, a screen clear, a cursor move, a carriage return over the line,
// an 8-bit CSI, and a right-to-left override.
const HOSTILE_TITLE = 'Fix login\x1b]0;owned\x07 \x1b[2J\x1b[H\rnothing to see \u009b31m \u202eevil';
const HOSTILE_BODY = 'first line\r\nsecond \x1b[1A\x1b[2Kline\n\tindented';
const HOSTILE_SUBJECT = 'urgent\x1b[8m hidden';

let dir: string;
let beadId: string;

/** The town opened in this process, acting as an agent of it (as its PTY's TOWN_TOKEN would). */
async function asAgent<T>(work: (agent: ReturnType<typeof typedClient>) => Promise<T>): Promise<T> {
  const engine = Engine.open({ townDir: dir });
  try {
    if (!engine.store.get('SELECT 1 FROM agents WHERE id = ?', AGENT)) {
      engine.store.transaction(() => createAgent(engine.store, { id: AGENT, role: 'polecat', rig: 'app', name: 'mallory', runtime: 'scripted', worktree: null }));
    }
    return await work(typedClient(engine.client({ kind: 'agent', agentId: AGENT })));
  } finally {
    engine.closeOffline();
  }
}

beforeAll(async () => {
  const base = tempDir('agent-beads');
  dir = path.join(base, 'town');
  await townJson(dir, 'init', dir);
  await townJson(dir, 'rig', 'add', 'app', makeRepo(path.join(base, 'repo')), '--prefix', 'ap');
  beadId = await asAgent(async (agent) => {
    await agent.call('mail.send', { to: OVERSEER, subject: HOSTILE_SUBJECT, body: 'see title' });
    return (await agent.call('bead.create', { title: HOSTILE_TITLE, body: HOSTILE_BODY, labels: ['x\x1b[31m'] })).id;
  });
});

afterAll(() => removeTempDirs());

/** Control characters a terminal would act on; newlines and tabs are layout. */
const ACTIVE_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('text from agents in the terminal', () => {
  it('bead list and bead show print the title, body and labels escaped; --json stays exact', async () => {
    const list = await town(dir, ['bead', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toMatch(ACTIVE_CONTROLS);
    const row = list.stdout.split('\n').find((l) => l.startsWith(beadId))!;
    expect(row).toContain('Fix login\\x1b]0;owned\\x07 \\x1b[2J\\x1b[H\\rnothing to see \\x9b31m \\u202eevil');

    const show = await town(dir, ['bead', 'show', beadId]);
    expect(show.code).toBe(0);
    expect(show.stdout).not.toMatch(ACTIVE_CONTROLS);
    const lines = show.stdout.split('\n');
    expect(lines[0]).toBe(`${beadId}  Fix login\\x1b]0;owned\\x07 \\x1b[2J\\x1b[H\\rnothing to see \\x9b31m \\u202eevil`);
    expect(show.stdout).toContain('labels:     x\\x1b[31m');
    // The body keeps its lines (CRLF read as a newline) and its tab; only the escapes show.
    expect(show.stdout).toContain('\nfirst line\nsecond \\x1b[1A\\x1b[2Kline\n\tindented');

    const json = await town(dir, ['bead', 'show', beadId, '--json']);
    expect(json.stdout).not.toMatch(ACTIVE_CONTROLS);
    const exact = JSON.parse(json.stdout);
    expect(exact).toMatchObject({ title: HOSTILE_TITLE, body: HOSTILE_BODY, origin: { kind: 'agent', id: AGENT } });
  });

  it('mail subjects from agents are escaped in the inbox', async () => {
    const served = new ServedTown(dir);
    await served.start();
    try {
      const inbox = await town(dir, ['mail', 'inbox']);
      expect(inbox.code).toBe(0);
      expect(inbox.stdout).not.toMatch(ACTIVE_CONTROLS);
      expect(inbox.stdout).toContain('urgent\\x1b[8m hidden');
      expect(inbox.stdout).toContain(AGENT);
    } finally {
      await served.stop();
    }
  });

  it("an agent's own session gets prime and hook with the bead's text escaped", async () => {
    // A real session of a shell-runtime rig runs the agent-side commands with its TOWN_TOKEN.
    const out = tempDir('agent-out');
    const command = `town prime > '${out}/prime.txt' 2>&1; town hook > '${out}/hook.txt' 2>&1; sleep 60`;
    await townJson(dir, 'rig', 'add', 'sh', makeRepo(path.join(out, 'repo')), '--prefix', 'sh', '--runtime', 'shell', '--command', command);
    const bead = (await townJson(dir, 'bead', 'create', '--rig', 'sh', '--title', HOSTILE_TITLE, '--body', HOSTILE_BODY)).id;
    const served = new ServedTown(dir);
    await served.start();
    try {
      await townJson(dir, 'sling', bead);
      const read = (name: string) => (fs.existsSync(path.join(out, name)) ? fs.readFileSync(path.join(out, name), 'utf8') : '');
      await waitFor('the agent to run town prime and town hook', () => read('prime.txt').includes('Fix login') && read('hook.txt').includes('Fix login'));
      for (const name of ['prime.txt', 'hook.txt']) {
        expect(read(name)).not.toMatch(ACTIVE_CONTROLS);
        expect(read(name)).toContain('Fix login\\x1b]0;owned\\x07');
        expect(read(name)).toContain('second \\x1b[1A\\x1b[2Kline');
      }
    } finally {
      await served.stop();
    }
  });

  it('a table measures a cell as it is shown, so the columns after it stay aligned', () => {
    const text = table([['a\x1b[2Jb', 'next'], ['plain', 'next']], ['NAME', 'COLUMN']);
    const [header, ...rows] = text.split('\n');
    for (const r of rows) expect(r.indexOf('next')).toBe(header.indexOf('COLUMN'));
    expect(rows[0]).toContain('a\\x1b[2Jb');
  });
});

describe('bead types', () => {
  it('an agent cannot create a convoy or merge-request bead; the error names type and the command to use', async () => {
    const before = (await townJson<unknown[]>(dir, 'bead', 'list')).length;
    await asAgent(async (agent) => {
      for (const type of ['convoy', 'merge_request', 'message', 'escalation'] as const) {
        const err = await agent.call('bead.create', { title: `fake ${type}`, type }).catch((e) => e);
        expect(err).toBeInstanceOf(ApiError);
        expect(err).toMatchObject({ code: 'invalid_input', field: 'type' });
        expect(err.message).toMatch(/town (convoy create|done|mail send)/);
      }
      expect((await agent.call('bead.create', { title: 'a real bug', type: 'bug' })).type).toBe('bug');
    });
    expect((await townJson<unknown[]>(dir, 'bead', 'list')).length).toBe(before + 1);
  });

  it('the overseer cannot either: `bead create --type merge_request` exits 1 naming type', async () => {
    const r = await town(dir, ['bead', 'create', '--rig', 'app', '--title', 'fake mr', '--type', 'merge_request']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[type]');
    expect(r.stderr).toContain('town done');
    // bead list hides convoy and MR beads, so look in the store: no bead of those types at all.
    const engine = Engine.open({ townDir: dir });
    try {
      const odd = engine.store.all<{ title: string }>(`SELECT title FROM beads WHERE type IN ('convoy','merge_request','message','escalation')`);
      expect(odd).toEqual([]);
    } finally {
      engine.closeOffline();
    }
  });
});
