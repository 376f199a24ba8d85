// A session spawned while the town is frozen is stopped at once, but its child may not have
// made its own process group yet (setsid runs in the child after the fork). The moment is
// made here, deterministically: a real process that is not a group leader, so signalling its
// "group" fails as it would in that moment, and the process itself must be signalled.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { signalSession } from '../src/main/sessions/session-host';
import { waitFor } from './helpers/town';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

const state = (pid: number) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
};

describe('freezing a session spawned a moment ago', () => {
  it('stops the process itself while its process group does not exist yet, and continues it at the thaw', async () => {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' }); // stays in our group: no group of its own
    children.push(child);
    const pid = child.pid!;
    expect(() => process.kill(-pid, 0)).toThrow(); // the group it will lead does not exist yet
    const info = { sessionId: 's-new', agentId: 'app/polecats/quartz', pid, pgid: pid, processStart: null, command: 'sleep 60' };

    expect(signalSession(info, 'SIGSTOP')).toBeNull();
    await waitFor('the process to stop', () => state(pid) === 'T', 5_000, 10);
    expect(signalSession(info, 'SIGCONT')).toBeNull();
    await waitFor('the process to continue', () => state(pid) !== 'T', 5_000, 10);
  });
});
