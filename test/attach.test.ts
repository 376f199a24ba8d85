// `town attach` from a real terminal: the current screen, then live output; keys reach
// the agent; Ctrl-] detaches and the agent keeps running.
import * as pty from 'node-pty';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeRepo } from './helpers/repo';
import { CLI, FAST_AGENTS, overseerEnv, removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

let served: ServedTown | null = null;
afterAll(async () => {
  await served?.stop();
  removeTempDirs();
});

describe('town attach', () => {
  it('shows the agent screen, sends keystrokes, and detaches with Ctrl-]', async () => {
    const base = tempDir('attach');
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    await town(dir, ['init', dir]);
    await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'sh check.sh', '--prefix', 'ap');
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Asks in the terminal', '--scenario', 'needs-input');
    served = new ServedTown(dir);
    await served.start();
    await townJson(dir, 'sling', bead.id);
    const agent = await waitFor('a working agent', async () => (await townJson(dir, 'agents')).find((a: any) => a.hook === bead.id && a.status === 'working'));
    // Let the agent reach its question before attaching, so it arrives as screen state.
    await new Promise((r) => setTimeout(r, 800));

    const attachTerminal = () => {
      const t = { screen: '', exit: null as Promise<number> | null, term: null as unknown as pty.IPty };
      t.term = pty.spawn(process.execPath, [CLI, '--town', dir, 'attach', agent.id], {
        cols: 120, rows: 30, cwd: base, env: overseerEnv(FAST_AGENTS),
      });
      t.term.onData((d) => (t.screen += d));
      t.exit = new Promise<number>((r) => t.term.onExit((e) => r(e.exitCode)));
      return t;
    };

    // First viewer: sees the question, detaches; the agent keeps waiting.
    const first = attachTerminal();
    await waitFor('the question on the attached screen', () => first.screen.includes('Proceed? [y/N]'));
    expect(first.screen).toContain('attached to');
    first.term.write('\x1d');
    expect(await first.exit).toBe(0);
    expect(first.screen).toContain('detached from');
    expect((await townJson(dir, 'agents')).find((a: any) => a.id === agent.id).status).toBe('working');

    // Second viewer: the screen is restored, the answer reaches the agent, and the
    // attachment ends by itself when the session does.
    const second = attachTerminal();
    await waitFor('the restored question', () => second.screen.includes('Proceed? [y/N]'));
    second.term.write('y\r');
    await waitFor('the agent to finish', () => second.screen.includes('town done'));
    expect(await second.exit).toBe(0);
    expect(second.screen).toContain('session ended');
    await waitFor('the bead to merge', async () => (await townJson(dir, 'bead', 'show', bead.id)).status === 'closed');
  });
});
