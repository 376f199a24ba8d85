// The fake model server drives the real agent CLIs through whole turns: a scripted Bash/exec_command call
// commits in a real git repo, and the usage each CLI reports is the script's.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitIn, makeRepo } from './helpers/repo';
import { CLAUDE_BIN, CODEX_BIN, claudeEnv, cliInstalled, codexEnv, writeCodexHome } from './helpers/fake-model/cli-env';
import { shell, totalUsage, usage, type Turn } from './helpers/fake-model/script';
import { startFakeModel, type FakeModelServer } from './helpers/fake-model/server';

const BEAD_TITLE = 'Add the greeting note';
const COMMIT = `printf 'hello\\n' > note.md && git add note.md && git commit -q -m 'Add greeting note'`;

let fake: FakeModelServer | undefined;
let tmp: string | undefined;

afterEach(async () => {
  const server = fake;
  fake = undefined;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
  await server?.close();
});

function workspace(): { home: string; repo: string; dir: string } {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-fake-model-'));
  const home = path.join(tmp, 'home');
  fs.mkdirSync(home);
  return { home, repo: makeRepo(path.join(tmp, 'repo')), dir: tmp };
}

function run(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function jsonLines(text: string): Record<string, any>[] {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

/** A two-turn script: commit through the shell tool, then say so. The first prompt must carry the bead title. */
function commitScript(): Turn[] {
  return [
    {
      text: 'I will write the note and commit it.',
      tools: [shell(COMMIT)],
      usage: usage(1200, 80, 300, 400),
      expect: (r) => expect(r.userTexts.at(-1)).toContain(BEAD_TITLE),
    },
    {
      text: 'Committed the greeting note.',
      usage: usage(150, 20, 0, 1700),
      when: (r) => r.toolResults.length === 1,
    },
  ];
}

describe.skipIf(!cliInstalled(CLAUDE_BIN))(`fake model with Claude Code${cliInstalled(CLAUDE_BIN) ? '' : ' (skipped: claude CLI not installed)'}`, () => {
  it('runs a Bash tool call that commits, and reports the scripted usage', async () => {
    const { home, repo } = workspace();
    const script = commitScript();
    fake = await startFakeModel(script);
    const out = await run(
      CLAUDE_BIN,
      ['-p', `Your bead: ${BEAD_TITLE}. Commit it.`, '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', '--model', 'claude-sonnet-4-5'],
      repo,
      claudeEnv(fake.url, home),
    );
    expect(out.code, out.stderr).toBe(0);

    expect(gitIn(repo, 'log', '-1', '--format=%s')).toBe('Add greeting note');
    expect(fs.readFileSync(path.join(repo, 'note.md'), 'utf8')).toBe('hello\n');
    expect(fake.unplayedTurns()).toBe(0);
    expect(fake.turnRequests()[1].toolResults).toHaveLength(1);

    const result = jsonLines(out.stdout).find((e) => e.type === 'result')!;
    const total = totalUsage(script);
    expect(result.usage).toMatchObject({
      input_tokens: total.input,
      output_tokens: total.output,
      cache_creation_input_tokens: total.cacheCreation,
      cache_read_input_tokens: total.cacheRead,
    });
    // Claude Code prices claude-sonnet-4-5 per million tokens at $3 input, $15 output, $3.75 cache write, $0.30 cache read.
    const dollars = (total.input * 3 + total.output * 15 + total.cacheCreation * 3.75 + total.cacheRead * 0.3) / 1e6;
    expect(result.total_cost_usd).toBeCloseTo(dollars, 9);
    expect(fake.turnRequests().map((r) => r.model)).toEqual(['claude-sonnet-4-5', 'claude-sonnet-4-5']);
  });
});

describe.skipIf(!cliInstalled(CODEX_BIN))(`fake model with Codex${cliInstalled(CODEX_BIN) ? '' : ' (skipped: codex CLI not installed)'}`, () => {
  it('runs an exec_command call that commits, and reports the scripted usage', async () => {
    const { home, repo, dir } = workspace();
    const script = commitScript();
    fake = await startFakeModel(script);
    const codexHome = writeCodexHome(fake.url, path.join(dir, 'codex-home'));
    const out = await run(
      CODEX_BIN,
      ['exec', '--json', '--dangerously-bypass-approvals-and-sandbox', `Your bead: ${BEAD_TITLE}. Commit it.`],
      repo,
      codexEnv(home, codexHome),
    );
    expect(out.code, out.stderr + out.stdout).toBe(0);

    expect(gitIn(repo, 'log', '-1', '--format=%s')).toBe('Add greeting note');
    expect(fake.unplayedTurns()).toBe(0);

    const completed = jsonLines(out.stdout).find((e) => e.type === 'turn.completed')!;
    const total = totalUsage(script);
    expect(completed.usage).toMatchObject({
      input_tokens: total.input + total.cacheCreation + total.cacheRead,
      cached_input_tokens: total.cacheRead,
      cache_write_input_tokens: total.cacheCreation,
      output_tokens: total.output,
    });
  });
});

describe('fake model server', () => {
  const post = (url: string, body: unknown) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const ask = (text: string) => ({ model: 'm', stream: true, messages: [{ role: 'user', content: text }] });

  it('fails the test on a request beyond the script, answering it with an HTTP error', async () => {
    const server = await startFakeModel([{ text: 'one', usage: usage(1, 1) }]);
    expect((await post(`${server.url}/v1/messages`, ask('first'))).status).toBe(200);
    expect((await post(`${server.url}/v1/messages`, ask('second'))).status).toBe(400);
    await expect(server.close()).rejects.toThrow(/no scripted turn left.*second/);
  });

  it('fails the test on an unknown path', async () => {
    const server = await startFakeModel([]);
    expect((await post(`${server.url}/v1/chat/completions`, {})).status).toBe(400);
    expect((await fetch(`${server.url}/api/hello`, { method: 'HEAD' })).status).toBe(200);
    await expect(server.close()).rejects.toThrow(/POST \/v1\/chat\/completions: no such endpoint/);
  });

  it("fails the test when a turn's expectation about the request does not hold", async () => {
    const server = await startFakeModel([{ text: 'x', usage: usage(1, 1), expect: (r) => expect(r.userTexts[0]).toContain(BEAD_TITLE) }]);
    expect((await post(`${server.url}/v1/messages`, ask('some other bead'))).status).toBe(400);
    await expect(server.close()).rejects.toThrow(/turn 0:.*Add the greeting note/);
  });

  it('plays the first pending turn whose predicate matches, whatever the order of requests', async () => {
    const server = await startFakeModel([
      { text: 'for A', usage: usage(1, 1), when: (r) => r.userTexts.includes('A') },
      { text: 'for B', usage: usage(1, 1), when: (r) => r.userTexts.includes('B') },
    ]);
    const b = await (await post(`${server.url}/v1/messages`, { ...ask('B'), stream: false })).json();
    const a = await (await post(`${server.url}/v1/responses`, { model: 'm', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'A' }] }] })).text();
    expect(b.content).toEqual([{ type: 'text', text: 'for B' }]);
    expect(a).toContain('"delta":"for A"');
    expect(server.unplayedTurns()).toBe(0);
    await server.close();
  });
});
