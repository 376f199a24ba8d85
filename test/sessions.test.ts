// The session host on real PTYs: screen, attach, kill-then-status on whole process groups.
import { afterEach, describe, expect, it } from 'vitest';
import { groupAlive, pidAlive } from '../src/main/sessions/process-tree';
import { SessionHost, type ExitInfo } from '../src/main/sessions/session-host';
import { removeTempDirs, tempDir, waitFor } from './helpers/town';

const hosts: SessionHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.stopAll('test over');
  removeTempDirs();
});

function newHost() {
  const h = new SessionHost({ stopGraceMs: 300 });
  hosts.push(h);
  return h;
}

const sh = (h: SessionHost, id: string, script: string) =>
  h.spawn({ sessionId: id, agentId: `a/${id}`, file: '/bin/sh', args: ['-c', script], cwd: tempDir('pty'), env: { ...(process.env as Record<string, string>), PS1: '' } });

describe('the session host', () => {
  it('keeps a screen that a viewer attaching mid-run receives before live output', async () => {
    const h = newHost();
    sh(h, 's1', 'echo first-line; read x; echo "got $x"; sleep 30');
    await waitFor('first output', async () => (await h.snapshot('s1')).includes('first-line'));
    const live: string[] = [];
    const a = await h.attach('s1', { onData: (d) => live.push(d), onEnd: () => {} });
    expect(a.screen).toContain('first-line');
    h.write('s1', 'hello\r');
    await waitFor('live echo', () => live.join('').includes('got hello'));
    a.detach();
  });

  it('attaches to a long scrollback with a short screen first, then the whole history of the same moment, then live output', async () => {
    const h = newHost();
    sh(h, 's5', 'i=1; while [ $i -le 3000 ]; do echo "row $i"; i=$((i+1)); done; read x; echo "after $x"; sleep 30');
    await waitFor('3000 rows', async () => (await h.snapshot('s5')).includes('row 3000'));
    const live: string[] = [];
    const a = await h.attach('s5', { onData: (d) => live.push(d), onEnd: () => {} }, { quickLines: 100 });
    expect(a.screen).toContain('row 3000');
    expect(a.screen).not.toContain('row 1\r');
    // Output that arrives before the history is taken is not in it: it reaches the viewer live.
    h.write('s5', 'late\r');
    await waitFor('live echo', () => live.join('').includes('after late'));
    const history = await a.history!;
    expect(history).toContain('row 1\r');
    expect(history).toContain('row 3000');
    expect(history).not.toContain('after late');
    // The session's own screen catches up once the history is taken.
    await waitFor('screen caught up', async () => (await h.snapshot('s5')).includes('after late'));
    a.detach();
    const short = await h.attach('s5', { onData: () => {}, onEnd: () => {} }, { quickLines: 5000 });
    expect(short.history).toBeNull();
    expect(short.screen).toContain('row 1\r');
    short.detach();
  });

  it('stops a whole process group, including a child that ignores SIGTERM, and only then reports the exit', async () => {
    const h = newHost();
    const exits: ExitInfo[] = [];
    h.onExit((e) => exits.push(e));
    const info = sh(h, 's2', `trap '' TERM HUP; (trap '' TERM HUP; sleep 60) & echo started; wait`);
    await waitFor('started', async () => (await h.snapshot('s2')).includes('started'));
    expect(groupAlive(info.pgid)).toBe(true);
    const exit = await h.stop('s2', 'user');
    expect(exit?.reason).toBe('user');
    expect(groupAlive(info.pgid)).toBe(false);
    expect(pidAlive(info.pid)).toBe(false);
    expect(exits.map((e) => e.sessionId)).toEqual(['s2']);
    expect(h.has('s2')).toBe(false);
  });

  it('reports a natural exit with its code and the last lines of output', async () => {
    const h = newHost();
    const exited = new Promise<ExitInfo>((r) => h.onExit(r));
    sh(h, 's3', 'echo something broke; exit 7');
    const e = await exited;
    expect(e.exitCode).toBe(7);
    expect(e.reason).toBe('exited');
    expect(e.tail).toContain('something broke');
  });

  it('pauses a flooding PTY so its buffers stay bounded', async () => {
    const h = newHost();
    const exited = new Promise<ExitInfo>((r) => h.onExit(r));
    sh(h, 's4', 'head -c 30000000 /dev/zero | tr "\\0" "x"; sleep 0.5; echo; echo flood-done');
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, h.bufferedBytes())), 5);
    const e = await exited;
    clearInterval(timer);
    expect(e.bytesOut).toBeGreaterThan(30_000_000);
    expect(e.tail).toContain('flood-done');
    expect(peak).toBeLessThan(4 * 1024 * 1024);
  });
});
