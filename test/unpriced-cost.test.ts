// A cost no runtime reported (Codex reports tokens only) is unknown, not $0: roll-ups sum what
// is priced and say how many tokens are not, and a budget that cannot see some spend says so once.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { typedClient } from '../src/shared/api';
import type { CostReport } from '../src/shared/domain';
import { costsText } from '../src/cli/format';
import { inMemoryTransport } from '../src/main/api/in-memory-transport';
import { openDatabase } from '../src/main/store/database';
import { MIGRATIONS } from '../src/main/store/migrations';
import { Store } from '../src/main/store/store';
import { townUsage } from '../src/main/store/usage';
import { FakeClock } from './helpers/fake-clock';
import { removeTempDirs, tempDir } from './helpers/town';
import { ruleTown } from './helpers/rule-town';

afterEach(() => removeTempDirs());

/** A convoy of two beads, one worked by a Codex agent and one by a Claude agent. */
async function mixedTown(budget_usd?: number) {
  const t = await ruleTown(3);
  const a = await t.town.call('bead.create', { rig: 'app', title: 'codex work' });
  const b = await t.town.call('bead.create', { rig: 'app', title: 'claude work' });
  const convoy = await t.town.call('convoy.create', { title: 'mixed work', beads: [a.id, b.id], ...(budget_usd ? { budget_usd } : {}) });
  await t.town.call('convoy.start', { convoy: convoy.id });
  await t.reconciler.tick();
  const starts = t.effects.take('start_session');
  const agentOf = (bead: string) => {
    const s = starts.find((x) => x.bead === bead)!;
    t.spawned(s);
    return { id: s.agent, client: typedClient(inMemoryTransport(t.dispatcher, { kind: 'agent', agentId: s.agent })) };
  };
  const codex = agentOf(a.id);
  const claude = agentOf(b.id);
  await t.reconciler.tick();
  const tokens = (n: number) => ({ input_tokens: n, output_tokens: 100, cache_creation_tokens: 0, cache_read_tokens: 900 });
  const reportCodex = async (n: number) => {
    await codex.client.call('agent.runtime_event', { runtime: 'codex', event: 'tool', session: 'codex-conv', usage: { ...tokens(n), cost_usd: null } });
    await t.reconciler.tick();
  };
  const reportClaude = async (cost: number) => {
    await claude.client.call('agent.runtime_event', { runtime: 'claude', event: 'tool', session: 'claude-conv', usage: { ...tokens(1000), cost_usd: cost } });
    await t.reconciler.tick();
  };
  const escalations = () => t.store.all<{ severity: string; reason: string; body: string; id: string }>('SELECT severity, reason, body, id FROM escalations ORDER BY created_at');
  return { ...t, a, b, convoy, codex, claude, reportCodex, reportClaude, escalations };
}

describe('usage without a price', () => {
  it('rolls Codex usage up with its cost unknown and Claude usage with its cost', async () => {
    const t = await mixedTown();
    await t.reportCodex(4000);
    // Nothing priced yet: unknown, not $0.
    const codexOnly = await t.town.call('costs.report', { by: 'agent' });
    expect(codexOnly.town).toMatchObject({ cost_usd: null, cost_partial: true, unpriced_tokens: 5000, input_tokens: 4000 });

    await t.reportClaude(1.2);
    const byAgent: CostReport = await t.town.call('costs.report', { by: 'agent' });
    expect(byAgent.town).toMatchObject({ cost_usd: 1.2, cost_partial: true, unpriced_tokens: 5000, input_tokens: 5000 });
    expect(byAgent.rows.find((r) => r.key === t.codex.id)).toMatchObject({ cost_usd: null, cost_partial: true, unpriced_tokens: 5000 });
    expect(byAgent.rows.find((r) => r.key === t.claude.id)).toMatchObject({ cost_usd: 1.2, cost_partial: false, unpriced_tokens: 0 });

    const byConvoy = await t.town.call('costs.report', { by: 'convoy' });
    expect(byConvoy.rows).toEqual([expect.objectContaining({ key: t.convoy.id, cost_usd: 1.2, cost_partial: true, unpriced_tokens: 5000 })]);
    expect((await t.town.call('bead.show', { id: t.a.id })).usage).toMatchObject({ cost_usd: null, cost_partial: true });
    expect((await t.town.call('bead.show', { id: t.b.id })).usage).toMatchObject({ cost_usd: 1.2, cost_partial: false });
    expect((await t.town.call('agent.list', {})).find((x) => x.id === t.codex.id)?.usage).toMatchObject({ cost_usd: null, unpriced_tokens: 5000 });
    expect(await t.town.call('convoy.show', { id: t.convoy.id })).toMatchObject({ spend_usd: 1.2, unpriced_tokens: 5000 });

    // `town costs` in words: never "$0" for the Codex agent.
    const text = costsText(byAgent);
    expect(text).toMatch(/^town: \$1\.20 \+ 5000 tokens without a price/);
    expect(text.split('\n').find((l) => l.startsWith(t.codex.id))).toMatch(/ — /);
    expect(text).toContain('Codex reports tokens, not cost');
  });

  it('a Claude turn end reports tokens before its cost: the session is priced once its status line says', async () => {
    const t = await mixedTown();
    await t.claude.client.call('agent.runtime_event', { runtime: 'claude', event: 'turn_end', session: 'claude-conv', usage: { input_tokens: 10, output_tokens: 5, cache_creation_tokens: 0, cache_read_tokens: 0, cost_usd: null } });
    expect((await t.town.call('costs.report', { by: 'agent' })).town).toMatchObject({ cost_usd: null, cost_partial: true });
    await t.reportClaude(0.3);
    expect((await t.town.call('costs.report', { by: 'agent' })).town).toMatchObject({ cost_usd: 0.3, cost_partial: false, unpriced_tokens: 0 });
  });
});

describe('a budget that cannot see Codex spend', () => {
  it('says so once as a low escalation, and still trips on the spend it can see', async () => {
    const t = await mixedTown(1);
    await t.reportCodex(1000);
    const warned = t.escalations();
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ severity: 'low', reason: `convoy ${t.convoy.id} "mixed work": budget cannot see all spend` });
    expect(warned[0].body).toContain('cannot see codex on rig app spend');
    expect(warned[0].body).toContain('Codex reports tokens, not cost');

    // More Codex usage, and an ack: never said again for this budget.
    await t.reportCodex(50_000);
    await t.town.call('escalation.ack', { id: warned[0].id });
    await t.reportCodex(90_000);
    expect(t.escalations().filter((e) => e.severity === 'low')).toHaveLength(1);
    // Dispatch is not paused for a figure nobody has.
    expect(await t.town.call('convoy.show', { id: t.convoy.id })).toMatchObject({ budget_level: 'ok', dispatch_paused: null });

    await t.reportClaude(1.05);
    expect(await t.town.call('convoy.show', { id: t.convoy.id })).toMatchObject({ spend_usd: 1.05, budget_level: 'reached', dispatch_paused: 'paused: budget reached' });
  });

  it('a budget set later on a scope that already has unpriced usage warns then', async () => {
    const t = await mixedTown();
    await t.reportCodex(1000);
    expect(t.escalations()).toHaveLength(0);
    await t.town.call('rig.update', { name: 'app', budget_usd: 10 });
    expect(t.escalations().map((e) => e.reason)).toEqual(['rig app: budget cannot see all spend']);
  });
});

describe('a town recorded before costs could be unknown', () => {
  it('migrates its Codex usage (recorded as $0) to unknown, and keeps Claude usage priced', () => {
    const file = path.join(tempDir('unpriced-migration'), 'town.db');
    const before = openDatabase(file, { migrations: MIGRATIONS.filter((m) => m.name !== 'usage without a price') });
    const row = before.prepare(`INSERT INTO usage (session_id, agent_id, runtime, input_tokens, output_tokens, cost_usd, updated_at) VALUES (?, 'a1', ?, 100, 10, ?, 0)`);
    row.run('codex:c1', 'codex', 0);
    row.run('claude:c2', 'claude', 0.25);
    before.close();
    const store = new Store(openDatabase(file), new FakeClock());
    expect(townUsage(store)).toMatchObject({ cost_usd: 0.25, cost_partial: true, unpriced_tokens: 110 });
  });
});
