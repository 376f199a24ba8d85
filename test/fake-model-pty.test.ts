// The real CLIs, interactive in real PTYs as Overseer runs them, play a scripted turn from the fake model
// server to the end: the seeded temp HOME / CODEX_HOME answer their startup questions, and their side
// requests (session titles) are answered from the allow-list, so only the script's turns are played.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as pty from 'node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { makeRepo } from './helpers/repo';
import {
  CLAUDE_BIN, CODEX_BIN, claudeEnv, cliInstalled, codexEnv, seedClaudeHome, stopCodexDaemons, trustCodexProject, writeCodexHome,
} from './helpers/fake-model/cli-env';
import { shell, usage, type Turn } from './helpers/fake-model/script';
import { startFakeModel, type FakeModelServer } from './helpers/fake-model/server';

let fake: FakeModelServer | undefined;
let tmp: string | undefined;
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
  const server = fake;
  fake = undefined;
  await server?.close();
});

function startPty(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): { out: { text: string } } {
  const p = pty.spawn(bin, args, { cols: 120, rows: 40, cwd, env: env as Record<string, string> });
  const out = { text: '' };
  p.onData((d) => (out.text += d));
  cleanups.push(() => {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return { out };
}

const lastCommit = (repo: string) => execFileSync('git', ['log', '-1', '--format=%s'], { cwd: repo, encoding: 'utf8' }).trim();

async function waitFor(what: string, done: () => boolean, screen: { text: string }): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (done()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  // eslint-disable-next-line no-control-regex
  throw new Error(`never saw ${what}; screen ends:\n${screen.text.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').slice(-1500)}`);
}

function script(): Turn[] {
  return [
    { tools: [shell("echo hi > a.txt && git add a.txt && git commit -qm 'Scripted commit'")], usage: usage(10, 5), expect: (r) => expect(r.userTexts.at(-1)).toBe('Do the bead') },
    { text: 'done', usage: usage(10, 5), when: (r) => r.toolResults.length === 1 },
  ];
}

function workspace(): { home: string; repo: string } {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-fake-pty-'));
  const home = path.join(tmp, 'home');
  fs.mkdirSync(home);
  return { home, repo: makeRepo(path.join(tmp, 'repo')) };
}

describe.skipIf(!cliInstalled(CLAUDE_BIN))(`interactive Claude Code on the fake model${cliInstalled(CLAUDE_BIN) ? '' : ' (skipped: claude CLI not installed)'}`, () => {
  it('starts without a blocking question and commits through its Bash tool', async () => {
    const { home, repo } = workspace();
    seedClaudeHome(home, [repo]);
    fake = await startFakeModel(script());
    const { out } = startPty(CLAUDE_BIN, ['--dangerously-skip-permissions', 'Do the bead'], repo, claudeEnv(fake.url, home));
    await waitFor('both turns played', () => fake!.unplayedTurns() === 0 && lastCommit(repo) === 'Scripted commit', out);
    expect(fake.turnRequests()[1].toolResults).toHaveLength(1);
    // Everything it wrote is under its config dir: no URL handler registered in $HOME/.config or .local.
    expect(fs.readdirSync(home)).toEqual(['.claude']);
  });
});

describe.skipIf(!cliInstalled(CODEX_BIN))(`interactive Codex on the fake model${cliInstalled(CODEX_BIN) ? '' : ' (skipped: codex CLI not installed)'}`, () => {
  it('starts without a blocking question and commits through exec_command', async () => {
    const { home, repo } = workspace();
    fake = await startFakeModel(script());
    const codexHome = writeCodexHome(fake.url, path.join(tmp!, 'codex-home'));
    trustCodexProject(codexHome, repo);
    cleanups.push(() => stopCodexDaemons(codexHome));
    const { out } = startPty(CODEX_BIN, ['--dangerously-bypass-approvals-and-sandbox', 'Do the bead'], repo, codexEnv(home, codexHome));
    await waitFor('both turns played', () => fake!.unplayedTurns() === 0 && lastCommit(repo) === 'Scripted commit', out);
    expect(fake.turnRequests()[1].toolResults).toHaveLength(1);
    expect(fs.readdirSync(home)).toEqual([]);
  });
});
