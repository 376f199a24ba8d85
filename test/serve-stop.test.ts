// `town serve` in a terminal: the terminal closing (SIGHUP) stops the town as gracefully as
// SIGTERM does (sessions stopped, the town closed, nothing of its tree left), and a second
// Ctrl-C during a slow graceful stop forces it at once. Real PTY, real agents.
import fs from 'node:fs';
import path from 'node:path';
import * as pty from 'node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { SAME_PRESS_MS } from '../src/cli/stop-signals';
import { killTree, leftRunning, running, treeOf } from './helpers/proc-tree';
import { makeRepo } from './helpers/repo';
import { CLI, overseerEnv, removeTempDirs, tempDir, town, townJson, waitFor } from './helpers/town';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  removeTempDirs();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A town with one agent at work that shrugs off SIGTERM and SIGHUP (so a graceful stop waits
 * out its grace period before the SIGKILL), served from a real terminal.
 */
async function servedInTerminal() {
  const base = tempDir('serve-stop');
  const dir = path.join(base, 'town');
  expect((await town(dir, ['init', dir])).code).toBe(0);
  const command = `trap '' TERM HUP; echo stubborn at work; exec sleep 600`;
  await townJson(dir, 'rig', 'add', 'app', makeRepo(path.join(base, 'repo')), '--prefix', 'ap', '--runtime', 'shell', '--command', command);
  const bead = (await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Work that ignores SIGTERM')).id;

  const term = pty.spawn(process.execPath, [CLI, 'serve', '--town', dir, '--no-web'], { cwd: base, env: overseerEnv(), cols: 160, rows: 40 });
  let out = '';
  let exit: { exitCode: number; signal?: number } | null = null;
  term.onData((d) => (out += d));
  term.onExit((e) => (exit = e));
  let tree = new Map<number, string>();
  cleanups.push(() => {
    killTree(tree);
    if (!exit) term.kill('SIGKILL');
  });
  await waitFor('town serve to listen', () => out.includes('stop with Ctrl-C') || exit, 20_000, 25);
  expect(exit, out).toBeNull();
  await townJson(dir, 'sling', bead);
  await waitFor('the agent at work', async () => (await townJson(dir, 'agents')).some((a: any) => a.pid && a.status === 'working'));
  tree = treeOf(term.pid);
  expect(leftRunning(tree).filter((l) => l.includes('sleep 600')), leftRunning(tree).join('\n')).toHaveLength(1);
  return { dir, term, tree, output: () => out, exited: () => exit };
}

async function expectTreeGone(tree: Map<number, string>, what: string, output: () => string) {
  await waitFor(`every process of the tree to be gone after ${what}`, () => [...tree].every(([pid, start]) => !running(pid, start)), 10_000, 20).catch(() => {
    throw new Error(`left running after ${what}:\n${leftRunning(tree).join('\n')}\n--- output ---\n${output()}`);
  });
}

describe('town serve in a terminal', () => {
  it.each(['the terminal closes', 'SIGHUP'] as const)('stops the town gracefully when %s', async (how) => {
    const { dir, term, tree, output, exited } = await servedInTerminal();
    if (how === 'SIGHUP') process.kill(term.pid, 'SIGHUP');
    // Closing the terminal hangs it up: the kernel sends SIGHUP, and every write fails from then on.
    // (node-pty's UnixTerminal has destroy(): close the master, then SIGHUP; its typings omit it.)
    else (term as pty.IPty & { destroy(): void }).destroy();
    await waitFor(`town serve to exit after ${how}`, () => exited(), 20_000, 20);
    await expectTreeGone(tree, how, output);
    // Closed as SIGTERM closes it: the lock released, the agent's end verified and recorded.
    expect(exited(), output()).toMatchObject({ exitCode: 0 });
    expect(fs.existsSync(path.join(dir, 'town.lock'))).toBe(false);
    const agents: any[] = await townJson(dir, 'agents');
    expect(agents.filter((a) => a.status === 'working')).toEqual([]);
  });

  it('finishes a graceful stop when the terminal closes during it', async () => {
    const { dir, term, tree, output, exited } = await servedInTerminal();
    term.write('\x03');
    await waitFor('the graceful stop to begin', () => output().includes('SIGINT: stopping sessions and closing the town'), 10_000, 20);
    // The stubborn agent holds the stop in its grace period; the terminal goes away meanwhile,
    // and every write the stop makes from here on fails.
    (term as pty.IPty & { destroy(): void }).destroy();
    await waitFor('town serve to exit', () => exited(), 20_000, 20);
    await expectTreeGone(tree, 'the stop', output);
    expect(exited(), output()).toMatchObject({ exitCode: 0 });
    expect(fs.existsSync(path.join(dir, 'town.lock'))).toBe(false);
    const agents: any[] = await townJson(dir, 'agents');
    expect(agents.filter((a) => a.status === 'working')).toEqual([]);
  });

  it('forces the stop at a second Ctrl-C while the graceful one still waits', async () => {
    const { dir, term, tree, output, exited } = await servedInTerminal();
    term.write('\x03');
    await waitFor('the graceful stop to begin', () => output().includes('SIGINT: stopping sessions and closing the town (Ctrl-C again to force it)'), 10_000, 20);
    // A press of its own, not the same one arriving twice.
    await sleep(SAME_PRESS_MS + 100);
    term.write('\x03');
    await waitFor('town serve to exit after the second Ctrl-C', () => exited(), 20_000, 20);
    await expectTreeGone(tree, 'the forced stop', output);
    expect(output()).toMatch(/Forced stop: killing \d+ processes of this town/);
    expect(exited(), output()).toMatchObject({ exitCode: 130 });
    // Forced, not finished gracefully: nobody recorded the agent's end (the next start recovers
    // it), yet the lock is released so that start need not wait.
    expect(fs.existsSync(path.join(dir, 'town.lock'))).toBe(false);
    const agents: any[] = await townJson(dir, 'agents');
    expect(agents.filter((a) => a.status === 'working')).toHaveLength(1);
  });
});
