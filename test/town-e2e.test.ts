// The whole loop through the real CLI and a real `town serve`: beads → dispatch →
// scripted agents in PTYs in their own worktrees → `town done` → refinery → main.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketClient } from '../src/main/control/socket-client';
import { agentProcessesOf, overseerToken, removeTempDirs, ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';
import { gitIn, makeRepo } from './helpers/repo';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

async function newTown(opts: { maxPolecats?: number } = {}) {
  const base = tempDir('e2e');
  const dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  expect((await town(dir, ['init', dir])).code).toBe(0);
  await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'sh check.sh', '--max-polecats', String(opts.maxPolecats ?? 2), '--prefix', 'ap');
  return { dir, repo };
}

async function serve(dir: string) {
  const s = new ServedTown(dir);
  served.push(s);
  await s.start();
  return s;
}

const bead = (dir: string, ...args: string[]) => townJson(dir, 'bead', 'create', '--rig', 'app', ...args);

describe('a town turns beads into merged commits', () => {
  it('lands a convoy of four beads, one waiting on another, through the test gate', async () => {
    const { dir, repo } = await newTown();
    const a = await bead(dir, '--title', 'Add the parser');
    const b = await bead(dir, '--title', 'Use the parser', '--after', a.id);
    const c = await bead(dir, '--title', 'Write docs');
    const d = await bead(dir, '--title', 'Tidy logging');
    const convoy = await townJson(dir, 'convoy', 'create', '--title', 'Release 1', a.id, b.id, c.id, d.id);
    expect(convoy.status).toBe('staged');

    await serve(dir);
    // A staged convoy dispatches nothing.
    await new Promise((r) => setTimeout(r, 600));
    expect((await townJson(dir, 'agents')).filter((x: any) => x.role === 'polecat')).toHaveLength(0);

    await townJson(dir, 'convoy', 'start', convoy.id);
    const landed = await waitFor('the convoy to land', async () => {
      const c2 = await townJson(dir, 'convoy', 'show', convoy.id);
      return c2.status === 'landed' ? c2 : null;
    }, 90_000, 250).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${served[0]?.log.slice(-3000)}`);
    });
    expect(landed.closed).toBe(4);
    expect(landed.total).toBe(4);

    // main holds every bead's file, and the gate passes on it.
    for (const x of [a, b, c, d]) {
      expect(gitIn(repo, 'show', `main:work/${x.id}.md`)).toContain(x.title);
    }
    expect(gitIn(repo, 'status', '--porcelain')).toBe('');
    expect(fs.existsSync(path.join(repo, 'work', `${d.id}.md`))).toBe(true); // the user's checkout came along
    const gate = await import('node:child_process').then((cp) => cp.execFileSync('sh', ['check.sh'], { cwd: repo, encoding: 'utf8' }));
    expect(gate).toContain('gate passed');

    // The dependent bead started only after its blocker closed.
    const [ba, bb] = [await townJson(dir, 'bead', 'show', a.id), await townJson(dir, 'bead', 'show', b.id)];
    expect(Date.parse(bb.started_at)).toBeGreaterThanOrEqual(Date.parse(ba.closed_at));

    const mrs = await townJson(dir, 'mr', 'list');
    expect(mrs.map((m: any) => m.state)).toEqual(['merged', 'merged', 'merged', 'merged']);
    // Merged branches go: what is left is only what a polecat's worktree still has checked out.
    const branches = gitIn(repo, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/polecat/').split('\n').filter(Boolean);
    const checkedOut = gitIn(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('branch refs/heads/')).map((l) => l.slice(18));
    expect(branches.filter((b) => !checkedOut.includes(b))).toEqual([]);
    expect(branches.length).toBeLessThanOrEqual(2);
    await waitFor('agents to go idle', async () => (await townJson(dir, 'agents')).every((x: any) => x.status === 'idle'));
    expect(agentProcessesOf(dir)).toEqual([]);
  }, 150_000);

  it('restarts a crashing agent once on its hook, then re-dispatches the bead counting attempts, and fails it at the cap', async () => {
    const { dir } = await newTown();
    await townJson(dir, 'config', 'set', 'dispatch_backoff_s', '[0]');
    await townJson(dir, 'config', 'set', 'health.crash_restarts', '1');
    await townJson(dir, 'config', 'set', 'health.crash_backoff', '0');
    const crash = await bead(dir, '--title', 'Always crashes', '--scenario', 'crash');
    await serve(dir);
    await townJson(dir, 'sling', crash.id);
    const failed = await waitFor('the bead to fail', async () => {
      const b = await townJson(dir, 'bead', 'show', crash.id);
      return b.status === 'failed' ? b : null;
    }, 60_000, 200);
    expect(failed.dispatch_attempts).toBe(5);
    expect(failed.close_reason).toMatch(/gave up after 5 attempts/);
    const sessions = await townJson(dir, 'events', '--limit', '10000');
    // Each of the 5 dispatches ran twice: the first crash restarts it on the same hook.
    expect(sessions.filter((e: any) => e.type === 'session.spawned' && e.bead === crash.id)).toHaveLength(10);
    expect(sessions.filter((e: any) => e.type === 'agent.respawn' && e.bead === crash.id)).toHaveLength(5);
    const inbox = await townJson(dir, 'mail', 'inbox');
    expect(inbox.some((m: any) => m.subject.includes(crash.id))).toBe(true);
    expect(agentProcessesOf(dir)).toEqual([]);
  });

  it('waits for an answer from a needs-input agent given through the socket, then lands it', async () => {
    const { dir, repo } = await newTown();
    const ask = await bead(dir, '--title', 'Asks first', '--scenario', 'needs-input');
    await serve(dir);
    await townJson(dir, 'sling', ask.id);
    // Nothing in the agent reports it: the engine sees the quiet terminal read and the prompt.
    const agent = await waitFor('the agent to be waiting', async () =>
      (await townJson(dir, 'agents')).find((x: any) => x.hook === ask.id && x.status === 'waiting'), 15_000);
    expect(agent.evidence.summary).toMatch(/no output for \d+ s, \S+ is reading the terminal, last line "\? Proceed\? \[y\/N\]"/);
    const token = overseerToken(dir);
    const client = new SocketClient(path.join(dir, 'town.sock'), token);
    await client.call('agent.input', { agent: agent.id, data: 'y\r' });
    client.close();
    await waitFor('the bead to close', async () => (await townJson(dir, 'bead', 'show', ask.id)).status === 'closed', 30_000);
    expect(gitIn(repo, 'show', `main:work/${ask.id}.md`)).toContain('Asks first');
    const events = await townJson(dir, 'events', '--limit', '10000');
    const statuses = events.filter((e: any) => e.type === 'agent.status' && e.agent === agent.id).map((e: any) => e.payload.to);
    expect(statuses).toEqual(expect.arrayContaining(['working', 'waiting']));
    expect(statuses.slice(statuses.indexOf('waiting') + 1)[0]).toBe('working'); // answered, so working again
  });

  it('lands a bead whose agent floods 20 MB of output, with engine memory bounded', async () => {
    const { dir } = await newTown();
    const flood = await bead(dir, '--title', 'Floods the terminal', '--scenario', 'flood');
    await serve(dir);
    await townJson(dir, 'sling', flood.id);
    let peakRss = 0;
    await waitFor('the flood bead to close', async () => {
      const s = await townJson(dir, 'status');
      peakRss = Math.max(peakRss, s.memory.rss_mb);
      return (await townJson(dir, 'bead', 'show', flood.id)).status === 'closed';
    }, 90_000, 300);
    const sessions = await townJson(dir, 'events', '--limit', '10000');
    const exit = sessions.find((e: any) => e.type === 'session.exited' && e.bead === flood.id);
    expect(exit.payload.bytes_out).toBeGreaterThan(20 * 1024 * 1024);
    expect(peakRss).toBeLessThan(300);
  });

  it('survives a restart mid-convoy: the convoy still lands and nothing merges twice', async () => {
    const { dir, repo } = await newTown({ maxPolecats: 1 });
    const ids: string[] = [];
    for (const t of ['One', 'Two', 'Three']) ids.push((await bead(dir, '--title', t)).id);
    const convoy = await townJson(dir, 'convoy', 'create', '--title', 'Restart me', ...ids);
    const first = await serve(dir);
    await townJson(dir, 'convoy', 'start', convoy.id);
    await waitFor('work under way', async () => (await townJson(dir, 'agents')).some((a: any) => a.status === 'working'));
    expect(await first.stop()).toBe(0);
    expect(agentProcessesOf(dir)).toEqual([]);
    const midway = await townJson(dir, 'bead', 'list');
    expect(midway.some((b: any) => b.status === 'in_progress')).toBe(false); // interrupted work went back to open

    await serve(dir);
    await waitFor('the convoy to land', async () => (await townJson(dir, 'convoy', 'show', convoy.id)).status === 'landed', 90_000, 250);
    const log = gitIn(repo, 'log', '--format=%s', 'main');
    for (const id of ids) {
      expect(log.split('\n').filter((s) => s.startsWith(`Merge ${id}:`))).toHaveLength(1);
    }
    const mrs = await townJson(dir, 'mr', 'list');
    expect(mrs.filter((m: any) => m.state === 'merged')).toHaveLength(3);
  });
});
