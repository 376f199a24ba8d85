// Agent faults handled by a real `town serve` with scripted agents in real PTYs, each
// told through the event log with its evidence: a silent agent nudged, escalated, then
// stopped and its bead reopened (or landed when the nudge tells it to continue); an agent
// that leaves without `done` respawned once, then released; a second `done` ignored.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentProcessesOf, removeTempDirs, ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';
import { gitIn, makeRepo } from './helpers/repo';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

async function newTown(label: string) {
  const base = tempDir(label);
  const dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  expect((await town(dir, ['init', dir])).code).toBe(0);
  await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'sh check.sh', '--max-polecats', '1', '--prefix', 'ap');
  // A reopened bead waits an hour before its next dispatch, so what follows a fault stays in view.
  await townJson(dir, 'config', 'set', 'dispatch.backoff', '0,1h');
  return { dir, repo };
}

async function serve(dir: string) {
  const s = new ServedTown(dir);
  served.push(s);
  await s.start();
  return s;
}

const events = (dir: string) => townJson<any[]>(dir, 'events', '--limit', '10000');
const about = (evs: any[], bead: string) => evs.filter((e) => e.bead === bead);

/** The stall agent waits at a blank line for a nudge; the town's thresholds are seconds here. */
async function stallTown(label: string, nudgeText: string | null) {
  const t = await newTown(label);
  for (const [k, v] of [['health.nudge_after', '2s'], ['health.escalate_after', '5s'], ['health.stop_after', '8s']]) await townJson(t.dir, 'config', 'set', k, v);
  if (nudgeText) await townJson(t.dir, 'config', 'set', 'health.nudge_text', nudgeText);
  const b = await townJson(t.dir, 'bead', 'create', '--rig', 'app', '--title', 'Goes quiet', '--scenario', 'stall');
  await serve(t.dir);
  await townJson(t.dir, 'sling', b.id);
  return { ...t, bead: b };
}

describe('a silent agent (GUPP)', () => {
  it('is nudged naming its bead, then escalated, then stopped (verified) and its bead reopened, when the nudge does not say continue', async () => {
    const { dir, bead } = await stallTown('stall-stop', 'Town here: {bead} has seen no progress. Report with town done.');
    const reopened = await waitFor('the bead to be reopened', async () => {
      const b = await townJson(dir, 'bead', 'show', bead.id);
      return b.status === 'open' && b.dispatch_attempts === 1 ? b : null;
    }, 60_000, 250).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}`);
    });
    expect(reopened.assignee ?? null).toBeNull();

    const evs = about(await events(dir), bead.id);
    const at = (pred: (e: any) => boolean, what: string) => {
      const i = evs.findIndex(pred);
      if (i < 0) throw new Error(`no ${what} in:\n${evs.map((e) => `${e.type} ${JSON.stringify(e.payload).slice(0, 160)}`).join('\n')}`);
      return i;
    };
    const nudged = at((e) => e.type === 'agent.nudged', 'nudge');
    const nudge = evs[nudged];
    expect(nudge.payload.text).toBe(`Town here: ${bead.id} has seen no progress. Report with town done.`);
    expect(nudge.payload.evidence.summary).toMatch(/^no progress \(screen, CLI or git\) for \d+ s; nudged$/);
    // One nudge per stall: the nudge's own echo on the screen is not progress.
    expect(evs.filter((e) => e.type === 'agent.nudged')).toHaveLength(1);
    const escalated = at((e) => e.type === 'escalation', 'escalation');
    expect(evs[escalated].payload).toMatchObject({ reason: 'agent stalled', severity: 'high' });
    const stopping = at((e) => e.type === 'agent.stopping', 'stop');
    expect(evs[stopping].payload.reason).toBe('health');
    const exited = at((e) => e.type === 'session.exited', 'session exit');
    expect(evs[exited].payload.reason).toBe('health');
    const released = at((e) => e.type === 'agent.released', 'release');
    expect(evs[released].payload).toMatchObject({ status: 'dead', cause: 'stopped: no progress' });
    const reopen = at((e) => e.type === 'bead.open' && e.payload.from === 'in_progress', 'reopen');
    expect(nudged < escalated && escalated < stopping && stopping < exited && exited < released && released < reopen).toBe(true);

    // The escalation reached the overseer with its evidence.
    const inbox = await townJson(dir, 'mail', 'inbox');
    const mail = inbox.find((m: any) => m.subject === `${bead.id}: agent stalled`);
    expect(mail?.body).toMatch(/no progress \(screen, CLI or git\) for \d+ s; nudged at \d\d:\d\d UTC/);
    // Stopped means gone: no process of the agent is left.
    expect(agentProcessesOf(dir)).toEqual([]);
  }, 90_000);

  it('lands the bead when the nudge says continue (the default text does)', async () => {
    const { dir, repo, bead } = await stallTown('stall-continue', null);
    await waitFor('the bead to close', async () => (await townJson(dir, 'bead', 'show', bead.id)).status === 'closed', 60_000, 250).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}`);
    });
    expect(gitIn(repo, 'show', `main:work/${bead.id}.md`)).toContain('Goes quiet');
    const evs = about(await events(dir), bead.id);
    const nudges = evs.filter((e) => e.type === 'agent.nudged');
    expect(nudges).toHaveLength(1);
    expect(nudges[0].payload.text).toContain(`You have ${bead.id} "Goes quiet" on your hook`);
    expect(nudges[0].payload.text).toContain('continue');
    expect(evs.some((e) => e.type === 'escalation' || e.type === 'agent.stopping')).toBe(false);
  }, 90_000);
});

describe('an agent that leaves without done', () => {
  it('is respawned once on the same hook, and the respawn offers the work it committed to the refinery', async () => {
    const { dir, repo } = await newTown('exit-respawn');
    const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Forgets to report', '--scenario', 'exit-without-done');
    await serve(dir);
    await townJson(dir, 'sling', b.id);
    await waitFor('the bead to close', async () => (await townJson(dir, 'bead', 'show', b.id)).status === 'closed', 60_000, 250).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}`);
    });
    const evs = about(await events(dir), b.id);
    // One hook, one agent: the first run exits 0, the respawn is scheduled on the same hook...
    expect(evs.filter((e) => e.type === 'agent.hooked')).toHaveLength(1);
    expect(evs.filter((e) => e.type === 'session.exited').map((e) => e.payload.exit_code)).toEqual([0]);
    const respawn = evs.filter((e) => e.type === 'agent.respawn');
    expect(respawn).toHaveLength(1);
    expect(respawn[0].payload.cause).toBe('exited without done; respawn 1 of 1');
    expect(new Set(evs.filter((e) => e.agent?.includes('/polecats/')).map((e) => e.agent)).size).toBe(1);
    // ...and, about to start, it finds the commit the first run left and hands it on.
    const recovered = evs.find((e) => e.type === 'work.recovered');
    expect(recovered.payload.commits).toHaveLength(1);
    expect(evs.filter((e) => e.type === 'mr.queued')).toHaveLength(1);
    expect(evs.some((e) => e.type === 'escalation')).toBe(false);
    expect(gitIn(repo, 'show', `main:work/${b.id}.md`)).toContain('Forgets to report');
    const bead = await townJson(dir, 'bead', 'show', b.id);
    expect(bead.dispatch_attempts).toBe(0); // a run that never started is no attempt
    expect(agentProcessesOf(dir)).toEqual([]);
  }, 90_000);

  it('past its respawns, is released, its bead reopened and one escalation raised', async () => {
    const { dir } = await newTown('exit-escalate');
    await townJson(dir, 'config', 'set', 'health.respawn_clean_exits', '0');
    const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Forgets to report', '--scenario', 'exit-without-done');
    await serve(dir);
    await townJson(dir, 'sling', b.id);
    await waitFor('the bead to be reopened', async () => {
      const x = await townJson(dir, 'bead', 'show', b.id);
      return x.status === 'open' && x.dispatch_attempts === 1;
    }, 60_000, 250).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}`);
    });
    const evs = about(await events(dir), b.id);
    expect(evs.filter((e) => e.type === 'session.spawned')).toHaveLength(1);
    expect(evs.some((e) => e.type === 'agent.respawn')).toBe(false);
    const released = evs.findIndex((e) => e.type === 'agent.released');
    expect(evs[released].payload).toMatchObject({ status: 'dead', cause: 'exited without done after 0 respawn(s)' });
    const reopened = evs.findIndex((e) => e.type === 'bead.open' && e.payload.from === 'in_progress');
    expect(released).toBeLessThan(reopened);
    const escalations = evs.filter((e) => e.type === 'escalation');
    expect(escalations).toHaveLength(1);
    expect(escalations[0].payload).toMatchObject({ reason: 'agent keeps exiting without done', severity: 'high' });
    const inbox = await townJson(dir, 'mail', 'inbox');
    expect(inbox.filter((m: any) => m.subject === `${b.id}: agent keeps exiting without done`)).toHaveLength(1);
    expect(agentProcessesOf(dir)).toEqual([]);
  }, 90_000);
});

describe('a late second done', () => {
  it('is recorded as ignored and changes nothing: the bead lands once', async () => {
    const { dir, repo } = await newTown('late-done');
    const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Reports twice', '--scenario', 'late-done');
    await serve(dir);
    await townJson(dir, 'sling', b.id);
    await waitFor('the bead to close', async () => (await townJson(dir, 'bead', 'show', b.id)).status === 'closed', 60_000, 250);
    const evs = await waitFor('the second done to be recorded', async () => {
      const all = about(await events(dir), b.id);
      return all.some((e) => e.type === 'agent.done_ignored') ? all : null;
    }, 20_000, 250);
    expect(evs.filter((e) => e.type === 'agent.done')).toHaveLength(1);
    const ignored = evs.filter((e) => e.type === 'agent.done_ignored');
    expect(ignored).toHaveLength(1);
    expect(ignored[0].payload.status).toBe('completed');
    expect(evs.filter((e) => e.type === 'mr.queued')).toHaveLength(1);
    const log = gitIn(repo, 'log', '--format=%s', 'main').split('\n');
    expect(log.filter((s) => s.startsWith(`Merge ${b.id}:`))).toHaveLength(1);
    expect((await townJson(dir, 'bead', 'show', b.id)).status).toBe('closed');
    await waitFor('no agent process left', () => agentProcessesOf(dir).length === 0, 10_000);
  }, 90_000);
});
