// The scripted agent in a real PTY under the session host, seen through the attention
// signals: `needs-input` is found waiting at its prompt and stops waiting once answered;
// `stall` goes silent and proceeds only when nudged with `continue`. The engine is not
// part of this: a stand-in `town` on PATH serves the hook and records `done` calls (the
// end-to-end tests run these scenarios against a real town).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scriptedAgentPath } from '../src/main/engine/resources';
import { SessionHost, type ExitInfo } from '../src/main/sessions/session-host';
import type { SessionSignal } from '../src/main/sessions/signals';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, tempDir, waitFor } from './helpers/town';

const hosts: SessionHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.stopAll('test over');
  removeTempDirs();
});

/** Starts the scripted agent on a bead with `scenario`; `townCalls()` lists the `town` commands it ran. */
function startAgent(scenario: string, opts: { doneDelayS?: number } = {}) {
  const h = new SessionHost({ stopGraceMs: 300 });
  hosts.push(h);
  const signals: SessionSignal[] = [];
  h.onSignal((s) => signals.push(s));
  const exited = new Promise<ExitInfo>((r) => h.onExit(r));
  const bin = tempDir('bin');
  const calls = path.join(bin, 'calls.log');
  const hook = { bead: { id: 'tt-1', title: 'Rotate the keys', scenario }, prior_work: null };
  fs.writeFileSync(path.join(bin, 'hook.json'), JSON.stringify(hook));
  fs.writeFileSync(
    path.join(bin, 'town'),
    `#!/bin/sh\necho "$*" >> '${calls}'\ncase "$1" in\n  hook) cat '${bin}/hook.json' ;;\n  done) sleep ${opts.doneDelayS ?? 0} ;;\nesac\n`,
    { mode: 0o755 },
  );
  const repo = makeRepo(tempDir('repo'));
  h.spawn({
    sessionId: 's',
    agentId: 'app/polecats/toast',
    file: process.execPath,
    args: [scriptedAgentPath()],
    cwd: repo,
    env: {
      ...(process.env as Record<string, string>),
      PATH: `${bin}:${process.env.PATH}`,
      TOWN_AGENT: 'app/polecats/toast',
      TOWN_SCRIPTED_PACE_MS: '15',
      GIT_AUTHOR_NAME: 'toast', GIT_AUTHOR_EMAIL: 'toast@t', GIT_COMMITTER_NAME: 'toast', GIT_COMMITTER_EMAIL: 'toast@t',
    },
  });
  const townCalls = () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : []);
  return { h, signals, exited, townCalls };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the scripted agent seen by the waiting probe', () => {
  it('needs-input: waiting at "Proceed? [y/N]" with evidence; answered, it works on and is not waiting', async () => {
    const { h, signals, exited, townCalls } = startAgent('needs-input', { doneDelayS: 3 });
    const ev = await waitFor('the agent waiting', () => h.probeWaiting('s', 500), 20_000);
    expect(ev.process.name).toBe('node');
    expect(ev.how).toBe('epoll');
    expect(ev.lastLines.at(-1)).toBe('? Proceed? [y/N]');
    expect(ev.beforeCursor).toBe('? Proceed? [y/N] ');
    expect(ev.summary).toMatch(/, node is reading the terminal, last line "\? Proceed\? \[y\/N\]"$/);

    h.write('s', 'y\r');
    expect(signals.at(-1)).toMatchObject({ kind: 'input', sessionId: 's' });
    // While `town done` runs (held for 3 s), the agent is live and quiet, but not reading its terminal.
    await waitFor('town done called', () => townCalls().some((c) => c.startsWith('done')), 20_000);
    await sleep(800);
    expect(h.has('s')).toBe(true);
    expect(await h.probeWaiting('s', 500)).toBeNull();
    const exit = await exited;
    expect(exit.exitCode).toBe(0);
    expect(townCalls()).toEqual(['hook --json', 'done --bead tt-1 --status completed --summary scripted needs-input run']);
  });

  it('stall: progress, then silence with no screen change and no CLI call; a nudge without "continue" is ignored, one with it finishes like ok', async () => {
    const { h, signals, exited, townCalls } = startAgent('stall');
    await waitFor('the progress shown', async () => (await h.lastLines('s', 1))[0] === '✔ Writing the change', 20_000);
    await sleep(1500);
    const before = signals.filter((s) => s.kind === 'screen_progress').length;
    const silentSince = h.lastOutputAt('s')!;
    await sleep(2000);
    expect(h.lastOutputAt('s')).toBe(silentSince);
    expect(signals.filter((s) => s.kind === 'screen_progress')).toHaveLength(before);
    expect(townCalls()).toEqual(['hook --json']);
    // It listens: the probe sees it reading, with the cursor on a fresh line (no question asked).
    const ev = await h.probeWaiting('s', 1000);
    expect(ev).toMatchObject({ process: { name: 'node' }, beforeCursor: '' });

    h.write('s', 'please get going\r');
    await sleep(1000);
    expect(townCalls()).toEqual(['hook --json']);
    h.write('s', 'nudge: continue with tt-1\r');
    const exit = await exited;
    expect(exit.exitCode).toBe(0);
    expect(exit.tail).toContain('committed');
    expect(townCalls()).toEqual(['hook --json', 'done --bead tt-1 --status completed --summary scripted stall run']);
  });

  it('exit-without-done commits and leaves; late-done calls done twice', async () => {
    const early = startAgent('exit-without-done');
    const e1 = await early.exited;
    expect(e1.exitCode).toBe(0);
    expect(e1.tail).toContain('committed');
    expect(early.townCalls()).toEqual(['hook --json']);

    const late = startAgent('late-done');
    const e2 = await late.exited;
    expect(e2.exitCode).toBe(0);
    expect(late.townCalls()).toEqual(['hook --json', ...Array(2).fill('done --bead tt-1 --status completed --summary scripted late-done run')]);
  });
});
