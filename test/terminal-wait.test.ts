// The terminal-read probe on real processes in real PTYs: who in the foreground is
// blocked waiting for the terminal's input, and who is not.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import * as pty from 'node-pty';
import { describe, expect, it } from 'vitest';
import { probeTerminalRead, type TerminalReadEvidence } from '../src/main/sessions/terminal-wait';
import { ptyProcs } from './helpers/pty-procs';
import { waitFor } from './helpers/town';

const linux = process.platform === 'linux';
const hasPython = spawnSync('python3', ['-c', 'pass']).status === 0;
const hasBwrap = spawnSync('bwrap', ['--version']).status === 0;
const run = ptyProcs('probe');

const waitingOf = (p: pty.IPty) => waitFor(`pid ${p.pid} reading its terminal`, () => probeTerminalRead(p.pid), 15_000, 50);

/** Probes for a second after `ready`: the process never counts as reading its terminal. */
async function neverReading(p: pty.IPty, ready: () => boolean) {
  await waitFor('the process to get going', ready, 15_000, 20);
  const seen: (TerminalReadEvidence | null)[] = [];
  for (let i = 0; i < 20; i++) {
    seen.push(probeTerminalRead(p.pid));
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(seen.filter(Boolean)).toEqual([]);
}

const ttyOf = (p: pty.IPty) => fs.readlinkSync(`/proc/${p.pid}/fd/0`);

describe.runIf(linux)('the terminal-read probe', () => {
  it('sees a shell blocked in read() on its terminal', async () => {
    const { p } = run('bash', ['-c', 'read x; echo "got $x"; sleep 30']);
    const ev = await waitingOf(p);
    expect(ev).toEqual({ pid: p.pid, name: 'bash', how: 'read', tty: ttyOf(p) });
    // Answered: the shell moves on to sleep and no longer reads.
    p.write('yes\r');
    await waitFor('the answer taken', () => probeTerminalRead(p.pid) === null, 15_000, 20);
  });

  it.runIf(hasPython)('sees Python waiting in input(), run by a shell that waits for it', async () => {
    const { p } = run('bash', ['-c', `python3 -c 'input("Proceed? [y/N] ")'; echo after`]);
    const ev = await waitingOf(p);
    expect(ev.name).toMatch(/^python/);
    expect(ev.pid).not.toBe(p.pid);
    expect(['read', 'poll']).toContain(ev.how);
  });

  it.runIf(hasPython)('sees a reader on another thread than the main one (as tokio TUIs read)', async () => {
    const { p } = run('python3', ['-c', 'import threading; t = threading.Thread(target=input); t.start(); t.join()']);
    const ev = await waitingOf(p);
    expect(ev).toMatchObject({ pid: p.pid, how: 'read' });
  });

  it.runIf(hasPython)('sees select() and poll() on the terminal, read from the caller\'s fd sets', async () => {
    const sel = run('python3', ['-c', 'import select, sys; select.select([sys.stdin], [], [])']);
    expect(await waitingOf(sel.p)).toMatchObject({ pid: sel.p.pid, how: 'poll' });
    const pol = run('python3', ['-c', 'import select, sys; q = select.poll(); q.register(sys.stdin, select.POLLIN); q.poll()']);
    expect(await waitingOf(pol.p)).toMatchObject({ pid: pol.p.pid, how: 'poll' });
  });

  it.runIf(hasBwrap)('(needs bwrap) sees a reader inside a sandbox, where its terminal is named /dev/console', async () => {
    const script = `process.stdin.on('data', () => {}); process.stdout.write('? Proceed? [y/N] ')`;
    const sandbox = ['--die-with-parent', '--unshare-pid', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];
    const { p } = run('bwrap', [...sandbox, process.execPath, '-e', script]);
    const ev = await waitingOf(p);
    expect(ev).toMatchObject({ name: 'node', how: 'epoll', tty: ttyOf(p) });
    expect(ev.pid).not.toBe(p.pid);
  });

  it('sees a Node TUI in raw mode waiting in epoll for its terminal', async () => {
    const script = `process.stdin.setRawMode(true); process.stdin.on('data', (d) => { if (String(d) === 'q') process.exit(0); }); process.stdout.write('ready')`;
    const { p, out } = run(process.execPath, ['-e', script]);
    const ev = await waitingOf(p);
    expect(ev).toEqual({ pid: p.pid, name: 'node', how: 'epoll', tty: ttyOf(p) });
    expect(out.text).toContain('ready');
  });

  it.runIf(hasPython)('does not count poll() on other fds than the terminal', async () => {
    const { p, out } = run('python3', ['-c', `import os, select; r, w = os.pipe(); q = select.poll(); q.register(r, select.POLLIN); print("polling", flush=True); q.poll()`]);
    await neverReading(p, () => out.text.includes('polling'));
  });

  it('does not count a Node process whose loop waits on timers, not on the terminal', async () => {
    const { p, out } = run(process.execPath, ['-e', `process.stdout.write('idle'); setInterval(() => {}, 1000)`]);
    await neverReading(p, () => out.text.includes('idle'));
  });

  it('does not count a sleeping process', async () => {
    const { p } = run('sleep', ['30']);
    await neverReading(p, () => fs.readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim() === 'sleep');
  });

  it('does not count a process busy printing', async () => {
    const { p, out } = run('bash', ['-c', 'while :; do echo busy; done']);
    await neverReading(p, () => out.text.includes('busy'));
  });

  it('does not count a reader stopped by SIGSTOP (a frozen town): frozen, not waiting; continued, it waits again', async () => {
    const { p } = run('bash', ['-c', 'read x; echo "got $x"; sleep 30']);
    await waitingOf(p);
    process.kill(-p.pid, 'SIGSTOP');
    await waitFor('the group stopped', () => fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8').includes(') T '), 15_000, 20);
    const seen: (TerminalReadEvidence | null)[] = [];
    for (let i = 0; i < 10; i++) seen.push(probeTerminalRead(p.pid));
    expect(seen.filter(Boolean)).toEqual([]);
    process.kill(-p.pid, 'SIGCONT');
    expect(await waitingOf(p)).toMatchObject({ pid: p.pid, how: 'read' });
  });

  it('returns null for a process that is gone', () => {
    const gone = run('true', []);
    return waitFor('true to exit', () => !fs.existsSync(`/proc/${gone.p.pid}`) || fs.readFileSync(`/proc/${gone.p.pid}/stat`, 'utf8').includes(') Z ')).then(() =>
      expect(probeTerminalRead(gone.p.pid)).toBeNull(),
    );
  });
});

describe.runIf(!linux)('the terminal-read probe off Linux', () => {
  it('reports nothing (notifications still work)', () => {
    expect(probeTerminalRead(process.pid)).toBeNull();
  });
});
