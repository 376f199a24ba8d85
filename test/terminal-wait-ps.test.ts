// The `ps` terminal-read probe (macOS's, where there is no /proc): the decision on rows
// as macOS's ps prints them, then the same code on real processes in real PTYs here,
// with Linux's names for the same wait channels.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  DARWIN_WAIT_CHANNELS,
  foregroundReader,
  parseTerminalProcesses,
  probeTerminalReadPs,
} from '../src/main/sessions/terminal-wait-ps';
import type { TerminalReadHow } from '../src/main/sessions/terminal-wait';
import { ptyProcs } from './helpers/pty-procs';
import { waitFor } from './helpers/town';

// As `ps -t ttys004 -o pid=,pgid=,tpgid=,stat=,wchan=,comm=` prints them on macOS: comm is
// the executable's path there, and a login shell's has a leading dash.
const macRows = (lines: string[]) => parseTerminalProcesses(lines.join('\n'));
const TTY = '/dev/ttys004';

describe('the ps probe decides from what ps printed', () => {
  it('names a foreground process blocked reading the terminal (ttyin)', () => {
    const rows = macRows(['  812   812  1040 Ss   -      -zsh', ' 1040  1040  1040 S+   ttyin  /usr/bin/python3']);
    expect(foregroundReader(rows, TTY, DARWIN_WAIT_CHANNELS)).toEqual({ pid: 1040, name: 'python3', how: 'read', tty: TTY });
  });

  it('counts select(2) as waiting, and keeps spaces in a command name', () => {
    const rows = macRows([' 2001  2001  2001 S+   select /Applications/My Tool.app/Contents/MacOS/my tool']);
    expect(foregroundReader(rows, TTY, DARWIN_WAIT_CHANNELS)).toEqual({ pid: 2001, name: 'my tool', how: 'poll', tty: TTY });
  });

  it('does not count a reader in a background group', () => {
    const rows = macRows(['  812   812  1040 Ss   ttyin  -zsh', ' 1040  1040  1040 S+   -      /bin/sleep']);
    expect(foregroundReader(rows, TTY, DARWIN_WAIT_CHANNELS)).toBeNull();
  });

  it('says working when anything in the foreground runs, frozen when anything is stopped', () => {
    const running = macRows([' 1040  1040  1040 S+   ttyin  /bin/bash', ' 1041  1040  1040 R+   -      /usr/bin/make']);
    const stopped = macRows([' 1040  1040  1040 T+   ttyin  /bin/bash']);
    expect(foregroundReader(running, TTY, DARWIN_WAIT_CHANNELS)).toBeNull();
    expect(foregroundReader(stopped, TTY, DARWIN_WAIT_CHANNELS)).toBeNull();
  });

  it('ignores zombies and lines that are not rows', () => {
    const rows = macRows(['ps: no such terminal', ' 1040  1040  1040 Z+   -      (node)', ' 1041  1040  1040 S+   ttyin  /bin/cat']);
    expect(foregroundReader(rows, TTY, DARWIN_WAIT_CHANNELS)).toEqual({ pid: 1041, name: 'cat', how: 'read', tty: TTY });
    expect(foregroundReader([], TTY, DARWIN_WAIT_CHANNELS)).toBeNull();
  });
});

// Linux's names for the same waits, only to drive the real `ps` path here: on Linux the
// session host uses /proc, which also checks the awaited fd is the terminal.
const LINUX_CHANNELS: Record<string, TerminalReadHow> = { wait_woken: 'read' };
const hasPs = spawnSync('ps', ['-o', 'pid=', '-p', String(process.pid)]).status === 0;
const start = ptyProcs('ps-probe');
const run = (script: string) => start('bash', ['-c', script]);

describe.runIf(process.platform === 'linux' && hasPs)('the ps probe on real terminals (needs ps)', () => {
  it('finds the shell reading its terminal, and lets go once answered', async () => {
    const { p, tty } = run('read x; echo "got $x"; sleep 30');
    const ev = await waitFor('bash reading', () => probeTerminalReadPs(tty, LINUX_CHANNELS), 15_000, 50);
    expect(ev).toEqual({ pid: p.pid, name: 'bash', how: 'read', tty });
    p.write('yes\r');
    await waitFor('the answer taken', async () => (await probeTerminalReadPs(tty, LINUX_CHANNELS)) === null, 15_000, 50);
  });

  it('sees a stopped foreground as frozen, not waiting', async () => {
    const { p, out, tty } = run('echo ready; read x');
    await waitFor('bash reading', () => probeTerminalReadPs(tty, LINUX_CHANNELS), 15_000, 50);
    expect(out.text).toContain('ready');
    process.kill(-p.pid, 'SIGSTOP');
    await waitFor('bash stopped', async () => (await probeTerminalReadPs(tty, LINUX_CHANNELS)) === null, 15_000, 50);
    process.kill(-p.pid, 'SIGCONT');
    await waitFor('bash reading again', () => probeTerminalReadPs(tty, LINUX_CHANNELS), 15_000, 50);
  });

  it('answers nothing for a terminal that is gone', async () => {
    expect(await probeTerminalReadPs('/dev/pts/999999', LINUX_CHANNELS)).toBeNull();
  });
});
