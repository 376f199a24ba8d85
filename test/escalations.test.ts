// Escalations, mail and nudges as the overseer meets them: deduplicated, re-raised at most
// twice while unacked, ack-able, rate-limited; nothing an agent does in a loop floods the inbox.
// A real store and reconciler with a fake clock and a recorded session host.
import path from 'node:path';
import type { AttentionAlert } from '../src/shared/attention';
import { watchAttentionAlerts } from '../src/main/engine/attention-alerts';
import { afterEach, describe, expect, it } from 'vitest';
import { typedClient, type TypedClient } from '../src/shared/api';
import { ApiError } from '../src/shared/errors';
import type { Effect } from '../src/main/reconciler/effects';
import { Reconciler } from '../src/main/reconciler/reconciler';
import { openDatabase } from '../src/main/store/database';
import { Store } from '../src/main/store/store';
import { ApiDispatcher } from '../src/main/api/dispatcher';
import { inMemoryTransport } from '../src/main/api/in-memory-transport';
import { makeRepo } from './helpers/repo';
import { FakeClock } from './helpers/fake-clock';
import { removeTempDirs, ServedTown, tempDir, town, townJson } from './helpers/town';
import { NO_SESSIONS } from './helpers/engine-context';
import { RecordingEffects } from './helpers/rule-town';

afterEach(() => removeTempDirs());

const MIN = 60_000;

/** A town with one polecat working one bead, and a client for the overseer and one for that agent. */
async function townWithWorkingAgent() {
  const base = tempDir('esc');
  const repo = makeRepo(path.join(base, 'repo'));
  const clock = new FakeClock();
  const store = new Store(openDatabase(path.join(base, 'town.db')), clock);
  const effects = new RecordingEffects();
  const reconciler = new Reconciler({ store, clock, effects, worktreeRoot: path.join(base, 'worktrees') });
  const typed: string[] = [];
  const dispatcher = new ApiDispatcher(
    {
      store, townDir: base, reconcilerMetrics: () => reconciler.metrics, ...NO_SESSIONS,
      writeToAgent: (_agent, data) => (typed.push(data), data.length),
    },
    'token',
  );
  const overseer: TypedClient = typedClient(inMemoryTransport(dispatcher, { kind: 'overseer' }));
  await overseer.call('rig.add', { name: 'app', path: repo, prefix: 'ap', max_polecats: 1 });
  const bead = await overseer.call('bead.create', { rig: 'app', title: 'the work' });
  await overseer.call('sling', { bead: bead.id });
  await reconciler.tick();
  const [start] = effects.take('start_session') as (Effect & { type: 'start_session' })[];
  store.report({ type: 'session.spawned', agent: start.agent, bead: bead.id, payload: { session: 's1', launch: start.launch, pid: 100001, pgid: 100001, command: 'x', cwd: '/tmp' } });
  await reconciler.tick();
  const agent: TypedClient = typedClient(inMemoryTransport(dispatcher, { kind: 'agent', agentId: start.agent }));
  const escalationMail = async () => (await overseer.call('mail.inbox', {})).filter((m) => m.kind === 'escalation');
  return { store, clock, effects, reconciler, overseer, agent, agentId: start.agent, bead: bead.id, typed, escalationMail };
}

const actionsOf = (r: Awaited<ReturnType<Reconciler['tick']>>, type: string) => (r?.actions ?? []).filter((a) => a.type === type);

describe('escalations', () => {
  it('an agent escalates its own bead; 200 identical escalations make one record and one mail', async () => {
    const t = await townWithWorkingAgent();
    const first = await t.agent.call('escalation.raise', { severity: 'high', reason: 'tests need a database', body: 'cannot reach postgres on :5432\nlog follows' });
    expect(first.deduplicated).toBe(false);
    expect(first.escalation).toMatchObject({ severity: 'high', source: t.agentId, agent: t.agentId, bead: t.bead, reason: 'tests need a database' });
    expect(first.escalation.evidence.summary).toBe('cannot reach postgres on :5432');
    for (let i = 0; i < 199; i++) {
      const again = await t.agent.call('escalation.raise', { severity: 'high', reason: 'tests need a database', body: 'cannot reach postgres on :5432' });
      expect(again).toMatchObject({ deduplicated: true, escalation: { id: first.escalation.id } });
    }
    expect(await t.overseer.call('escalation.list', {})).toHaveLength(1);
    expect(await t.escalationMail()).toHaveLength(1);
    expect(t.store.get<{ n: number }>('SELECT count(*) AS n FROM escalations')!.n).toBe(1);
  });

  it('an unacked escalation is raised again after reescalate_after, at most twice; a second pass emits nothing', async () => {
    const t = await townWithWorkingAgent();
    // A healthy agent throughout: the only escalation is the one raised here.
    await t.overseer.call('town.config', { set: { 'escalation.reescalate_after': '1h', 'health.nudge_after': '100h', 'health.escalate_after': '100h', 'health.stop_after': '100h' } });
    const { escalation } = await t.agent.call('escalation.raise', { severity: 'critical', reason: 'disk full', body: 'no space left on /work' });
    const reraises = () => t.store.all<{ type: string }>(`SELECT type FROM events WHERE type = 'escalation.reraised'`).length;

    t.clock.advance(60 * MIN - 1000);
    expect(actionsOf(await t.reconciler.tick(), 'reraise_escalation')).toEqual([]);

    for (const count of [2, 3]) {
      t.clock.advance(1000 + (count === 3 ? 60 * MIN : 0));
      expect(actionsOf(await t.reconciler.tick(), 'reraise_escalation')).toEqual([{ type: 'reraise_escalation', escalation: escalation.id }]);
      // Idempotent: the same moment, the same town, nothing more.
      expect(actionsOf(await t.reconciler.tick(), 'reraise_escalation')).toEqual([]);
      expect((await t.overseer.call('escalation.list', {})).find((e) => e.id === escalation.id)!.raised_count).toBe(count);
      expect(await t.escalationMail()).toHaveLength(count);
    }
    // Twice is the most: hours later it stays as it is.
    t.clock.advance(10 * 60 * MIN);
    expect(actionsOf(await t.reconciler.tick(), 'reraise_escalation')).toEqual([]);
    expect(reraises()).toBe(2);
    expect(await t.escalationMail()).toHaveLength(3);
  });

  it('an acked escalation is never raised again, leaves the unacked list, and the same problem may come back after the cooldown', async () => {
    const t = await townWithWorkingAgent();
    const { escalation } = await t.agent.call('escalation.raise', { severity: 'high', reason: 'flaky network', body: 'npm install timed out' });
    const acked = await t.overseer.call('escalation.ack', { id: escalation.id });
    expect(acked.acked_by).toBe('overseer');
    expect(acked.acked_at).not.toBeNull();
    expect(await t.overseer.call('escalation.list', {})).toEqual([]);
    expect(await t.overseer.call('escalation.list', { all: true })).toHaveLength(1);
    expect(t.store.all(`SELECT seq FROM events WHERE type = 'escalation.acked'`)).toHaveLength(1);

    t.clock.advance(5 * 60 * MIN);
    expect(actionsOf(await t.reconciler.tick(), 'reraise_escalation')).toEqual([]);
    const again = await t.agent.call('escalation.raise', { severity: 'high', reason: 'flaky network', body: 'npm install timed out again' });
    expect(again.deduplicated).toBe(false);
    expect(again.escalation.id).not.toBe(escalation.id);

    // Acking is only for the overseer; an unknown id is named.
    await expect(t.agent.call('escalation.ack', { id: again.escalation.id })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(t.overseer.call('escalation.ack', { id: 'esc-0000000000' })).rejects.toMatchObject({ code: 'not_found', field: 'id' });
  });
});

describe('mail', () => {
  it('is read and acked by its recipient; another agent cannot see it', async () => {
    const t = await townWithWorkingAgent();
    const sent = await t.agent.call('mail.send', { to: 'overseer', subject: 'question', body: 'which port?' });
    expect(sent).toMatchObject({ read_at: null, acked_at: null });
    // The agent cannot open the overseer's mail.
    await expect(t.agent.call('mail.read', { id: sent.id })).rejects.toMatchObject({ code: 'not_found' });

    const read = await t.overseer.call('mail.read', { id: sent.id });
    expect(read.body).toBe('which port?');
    expect(read.read_at).not.toBeNull();
    expect(read.acked_at).toBeNull();
    expect(await t.overseer.call('mail.inbox', { unread: true })).toEqual([]);
    const acked = await t.overseer.call('mail.ack', { id: sent.id });
    expect(acked.acked_at).not.toBeNull();
    expect(acked.read_at).toBe(read.read_at);
    const types = t.store.all<{ type: string }>(`SELECT type FROM events WHERE type IN ('mail.read','mail.acked') ORDER BY seq`).map((e) => e.type);
    expect(types).toEqual(['mail.read', 'mail.acked']);
  });

  it('an agent sending in a tight loop is refused past mail.rate_limit per minute, with the limit named', async () => {
    const t = await townWithWorkingAgent();
    await t.overseer.call('town.config', { set: { 'mail.rate_limit': 30 } });
    let refused: ApiError | null = null;
    let accepted = 0;
    for (let i = 0; i < 200; i++) {
      try {
        await t.agent.call('mail.send', { to: 'overseer', subject: `update ${i}`, body: 'still going' });
        accepted++;
      } catch (err) {
        refused ??= err as ApiError;
      }
    }
    expect(accepted).toBe(30);
    expect(refused).toMatchObject({ code: 'rate_limited', field: 'mail.rate_limit' });
    expect(refused!.message).toContain('30/min');
    expect((await t.overseer.call('mail.inbox', {})).filter((m) => m.kind !== 'escalation')).toHaveLength(30);

    // Escalations with ever-new reasons mail too, and meet the same limit.
    await expect(t.agent.call('escalation.raise', { reason: 'new reason 1', body: 'x' })).rejects.toMatchObject({ code: 'rate_limited' });

    // A minute later it may send again.
    t.clock.advance(MIN);
    await t.agent.call('mail.send', { to: 'overseer', subject: 'after a pause', body: '' });
  });
});

describe('nudges', () => {
  it('the automatic nudge is typed once per stall however often the reconciler runs; manual nudges are always accepted', async () => {
    const t = await townWithWorkingAgent();
    await t.overseer.call('town.config', { set: { 'health.nudge_after': '15m', 'health.escalate_after': '1h', 'health.stop_after': '2h' } });
    let nudges = 0;
    for (let minute = 0; minute < 59; minute++) {
      t.clock.advance(MIN);
      await t.reconciler.tick();
      nudges += t.effects.take('nudge_session').length;
    }
    expect(nudges).toBe(1);
    for (let i = 0; i < 5; i++) await t.overseer.call('agent.input', { agent: t.agentId, data: 'please continue\r' });
    expect(t.typed).toHaveLength(5);
  });
});

describe('the `town` commands', () => {
  it('escalate, escalations, ack, mail read and mail ack, as the overseer sees them', async () => {
    const dir = tempDir('esc-cli');
    expect((await town(dir, ['init', dir])).code).toBe(0);
    const served = new ServedTown(dir);
    await served.start();
    try {
      const raised = await town(dir, ['escalate', '--severity', 'critical', '--reason', 'disk full', 'no space left on /work\nthe log follows']);
      expect(raised.stdout).toMatch(/^escalated esc-[0-9a-f]+ \(critical\)$/m);
      const again = await town(dir, ['escalate', '--severity', 'critical', '--reason', 'disk full', 'still full']);
      expect(again.stdout).toMatch(/already escalated as esc-/);

      const listed = await town(dir, ['escalations']);
      expect(listed.stdout).toMatch(/^ID\s+SEVERITY\s+AGE\s+AGENT \/ BEAD\s+REASON\s+EVIDENCE$/m);
      expect(listed.stdout).toMatch(/esc-\w+\s+CRITICAL\s+\d+s ago\s+overseer\s+disk full\s+no space left on \/work/);
      const [esc] = await townJson<Array<{ id: string }>>(dir, 'escalations');
      expect((await town(dir, ['ack', esc.id])).stdout).toContain(`acked ${esc.id} (disk full)`);
      expect((await town(dir, ['escalations'])).stdout.trim()).toBe('no unacked escalations');
      expect((await town(dir, ['escalations', '--all'])).stdout).toContain('disk full [acked]');

      const [mail] = await townJson<Array<{ id: string; read_at: string | null }>>(dir, 'mail', 'inbox');
      expect(mail.read_at).toBeNull();
      const read = await town(dir, ['mail', 'read', mail.id]);
      expect(read.stdout).toContain('no space left on /work');
      expect((await town(dir, ['mail', 'ack', mail.id])).stdout).toContain(`acked ${mail.id}`);
      const [after] = await townJson<Array<{ read_at: string | null; acked_at: string | null }>>(dir, 'mail', 'inbox');
      expect(after.read_at).not.toBeNull();
      expect(after.acked_at).not.toBeNull();

      const bad = await town(dir, ['escalate', '--severity', 'dire', '--reason', 'x', 'y']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('[severity]');
    } finally {
      await served.stop();
    }
  }, 60_000);
});

describe("the desktop app's notifications", () => {
  it('announce a waiting agent and an urgent escalation once each, with whose terminal a click opens', async () => {
    const t = await townWithWorkingAgent();
    await t.agent.call('escalation.raise', { severity: 'high', reason: 'already there', body: 'raised before the app opened' });
    const shown: AttentionAlert[] = [];
    const stop = watchAttentionAlerts(t.store, (a) => shown.push(a));
    // What was there when the app started is not announced.
    expect(shown).toEqual([]);

    await t.agent.call('escalation.raise', { severity: 'low', reason: 'a note', body: 'not urgent' });
    await t.agent.call('escalation.raise', { severity: 'critical', reason: 'disk full', body: 'no space left on device' });
    await t.agent.call('agent.signal', { state: 'waiting', message: 'Proceed? [y/N]' });
    await t.reconciler.tick();
    expect(shown.map((a) => [a.title, a.agent])).toEqual([
      ['Critical: disk full', t.agentId],
      [`${t.agentId.split('/').pop()} is waiting for input`, t.agentId],
    ]);
    // Nothing new: nothing shown again. After the unsubscribe: nothing at all.
    await t.reconciler.tick();
    stop();
    await t.agent.call('escalation.raise', { severity: 'high', reason: 'after the app closed', body: 'x' });
    expect(shown).toHaveLength(2);
  });
});
