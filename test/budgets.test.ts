// Budgets per convoy, rig and town: spend reported by an agent's runtime warns at 80 % and
// pauses dispatch of what the budget covers at 100 %, each once; raising the budget resumes.
import { afterEach, describe, expect, it } from 'vitest';
import { typedClient } from '../src/shared/api';
import { budgetLevel, budgetStep, type BudgetLevel } from '../src/shared/budget';
import { inMemoryTransport } from '../src/main/api/in-memory-transport';
import { removeTempDirs } from './helpers/town';
import { ruleTown } from './helpers/rule-town';

afterEach(() => removeTempDirs());

describe('the budget rule', () => {
  it('announces each upward crossing once, and a raised budget re-arms it', () => {
    let level: BudgetLevel = 'ok';
    const announced: string[] = [];
    const spend = (spent: number, budget: number | null) => {
      const step = budgetStep(level, spent, budget);
      level = step.level;
      if (step.announce) announced.push(`${step.announce}@${spent}`);
    };
    for (const s of [0.5, 0.79, 0.8, 0.9, 0.99, 1, 1.2, 1.2]) spend(s, 1);
    expect(announced).toEqual(['warning@0.8', 'reached@1']);
    spend(1.2, 2); // raised: 60 %, quietly re-armed
    expect(level).toBe('ok');
    for (const s of [1.5, 1.6, 1.7, 2.5]) spend(s, 2);
    expect(announced).toEqual(['warning@0.8', 'reached@1', 'warning@1.6', 'reached@2.5']);
    spend(2.5, null); // removed: nothing to reach
    expect(level).toBe('ok');
  });

  it('jumps straight to reached without a warning first, and counts in cents', () => {
    expect(budgetStep('ok', 7, 5)).toEqual({ level: 'reached', announce: 'reached' });
    // 0.1 + 0.2 + 0.7 is 0.9999999999999999 in floating point: still the whole dollar.
    expect(budgetLevel(0.1 + 0.2 + 0.7, 1)).toBe('reached');
    expect(budgetLevel(3.99, 5)).toBe('ok');
    expect(budgetLevel(4, 5)).toBe('warning');
  });
});

async function budgetTown() {
  const t = await ruleTown(3);
  await t.town.call('town.config', { set: { 'dispatch.backoff': '0' } });
  const a = await t.town.call('bead.create', { rig: 'app', title: 'first step' });
  const convoy = await t.town.call('convoy.create', { title: 'paid work', beads: [a.id], budget_usd: 1 });
  await t.town.call('convoy.start', { convoy: convoy.id });
  await t.reconciler.tick();
  const [start] = t.effects.take('start_session');
  expect(start.bead).toBe(a.id);
  t.spawned(start);
  await t.reconciler.tick();
  // The agent's runtime reports its conversation's running totals, as its hooks do.
  const agent = typedClient(inMemoryTransport(t.dispatcher, { kind: 'agent', agentId: start.agent }));
  const report = async (cost: number) => {
    await agent.call('agent.runtime_event', {
      runtime: 'claude', event: 'tool', session: 'conv-1',
      usage: { input_tokens: Math.round(cost * 1000), output_tokens: 10, cache_creation_tokens: 0, cache_read_tokens: 0, cost_usd: cost },
    });
    await t.reconciler.tick();
  };
  const events = (type: string) => t.store.all<{ payload: string }>('SELECT payload FROM events WHERE type = ? ORDER BY seq', type).map((e) => JSON.parse(e.payload));
  const escalations = () => t.store.all<{ severity: string; reason: string; body: string; acked_at: number | null }>('SELECT severity, reason, body, acked_at FROM escalations ORDER BY created_at');
  return { ...t, a, convoy, start, report, events, escalations };
}

describe('a convoy budget in a town', () => {
  it('warns once at 80 %, pauses the convoy at 100 % without stopping its agent, and resumes when raised', async () => {
    const t = await budgetTown();
    await t.report(0.5);
    expect(t.events('budget.warning')).toHaveLength(0);

    await t.report(0.85);
    expect(t.events('budget.warning')).toEqual([{ scope: 'convoy', id: t.convoy.id, spent_usd: 0.85, budget_usd: 1 }]);
    expect(t.escalations().map((e) => e.severity)).toEqual(['medium']);
    // A replayed report of the same spend announces nothing again.
    const [recorded] = t.store.all<{ agent_id: string; bead_id: string; payload: string }>(`SELECT agent_id, bead_id, payload FROM events WHERE type = 'usage.recorded' ORDER BY seq DESC LIMIT 1`);
    t.store.report({ type: 'usage.recorded', agent: recorded.agent_id, bead: recorded.bead_id, payload: JSON.parse(recorded.payload) });
    await t.reconciler.tick();
    await t.report(0.9);
    expect(t.events('budget.warning')).toHaveLength(1);
    expect(t.escalations()).toHaveLength(1);

    await t.report(1.1);
    expect(t.events('budget.reached')).toEqual([{ scope: 'convoy', id: t.convoy.id, spent_usd: 1.1, budget_usd: 1 }]);
    const reached = t.escalations().filter((e) => e.severity === 'high');
    expect(reached).toHaveLength(1);
    expect(reached[0].body).toContain('has spent $1.10 of its $1.00 budget');
    expect(reached[0].body).toContain('Agents already running are not stopped');
    expect(reached[0].body).toContain(`town convoy update ${t.convoy.id} --budget`);
    // The running agent goes on: nothing stops it.
    expect(t.effects.take('stop_session')).toEqual([]);
    expect((await t.town.call('agent.list', {})).find((x) => x.id === t.start.agent)?.status).toBe('working');

    // New work in the convoy waits; work outside it does not.
    const b = await t.town.call('bead.create', { rig: 'app', title: 'second step' });
    await t.town.call('convoy.add', { convoy: t.convoy.id, beads: [b.id] });
    const other = await t.town.call('bead.create', { rig: 'app', title: 'unbudgeted' });
    await t.town.call('sling', { bead: other.id });
    await t.reconciler.tick();
    expect(t.effects.take('start_session').map((s) => s.bead)).toEqual([other.id]);
    const paused = await t.town.call('convoy.show', { id: t.convoy.id });
    expect(paused).toMatchObject({ budget_usd: 1, spend_usd: 1.1, budget_level: 'reached', dispatch_paused: 'paused: budget reached' });
    await t.reconciler.tick();
    expect(t.effects.take('start_session')).toEqual([]);
    expect(t.events('budget.reached')).toHaveLength(1);

    // Raised: dispatch resumes, the escalations are answered, and the next crossing is news again.
    const raised = await t.town.call('convoy.update', { convoy: t.convoy.id, budget_usd: 5 });
    expect(raised).toMatchObject({ budget_usd: 5, budget_level: 'ok', dispatch_paused: null });
    await t.reconciler.tick();
    expect(t.effects.take('start_session').map((s) => s.bead)).toEqual([b.id]);
    expect(t.escalations().every((e) => e.acked_at !== null)).toBe(true);
    await t.report(4.2);
    expect(t.events('budget.warning')).toHaveLength(2);
  });

  it('a lowered budget pauses at once, and none removes the pause', async () => {
    const t = await budgetTown();
    await t.report(0.6);
    await t.town.call('convoy.update', { convoy: t.convoy.id, budget_usd: 0.5 });
    expect(t.events('budget.reached')).toHaveLength(1);
    expect((await t.town.call('convoy.show', { id: t.convoy.id })).dispatch_paused).toBe('paused: budget reached');
    const open = await t.town.call('convoy.update', { convoy: t.convoy.id, budget_usd: null });
    expect(open).toMatchObject({ budget_usd: null, dispatch_paused: null });
    await expect(t.town.call('convoy.update', { convoy: t.convoy.id, budget_usd: -1 })).rejects.toMatchObject({ field: 'budget_usd' });
    // Spend counts in cents: a budget under one cent would be reached the moment it is set.
    await expect(t.town.call('convoy.update', { convoy: t.convoy.id, budget_usd: 0.004 })).rejects.toMatchObject({ field: 'budget_usd', message: expect.stringContaining('at least $0.01') });
  });

  it('the town budget pauses every dispatch and says so on each convoy', async () => {
    const t = await budgetTown();
    await t.town.call('town.config', { set: { 'costs.town_budget': '2' } });
    await t.report(2.5);
    expect(t.events('budget.reached').map((p) => p.scope)).toEqual(['convoy', 'town']);
    const other = await t.town.call('bead.create', { rig: 'app', title: 'unbudgeted' });
    await t.town.call('sling', { bead: other.id });
    await t.reconciler.tick();
    expect(t.effects.take('start_session')).toEqual([]);
    await t.town.call('convoy.update', { convoy: t.convoy.id, budget_usd: 10 });
    expect((await t.town.call('convoy.show', { id: t.convoy.id })).dispatch_paused).toBe('paused: town budget reached');
    await t.town.call('town.config', { set: { 'costs.town_budget': '0' } });
    await t.reconciler.tick();
    expect(t.effects.take('start_session').map((s) => s.bead)).toEqual([other.id]);
  });

  it('a rig budget pauses that rig only, and its update re-arms it', async () => {
    const t = await budgetTown();
    await t.town.call('convoy.update', { convoy: t.convoy.id, budget_usd: 100 });
    await t.town.call('rig.update', { name: 'app', budget_usd: 3 });
    await t.report(3);
    expect(t.events('budget.reached').map((p) => p.scope)).toEqual(['rig']);
    expect(t.escalations().find((e) => e.severity === 'high')?.body).toContain('town rig update app --budget');
    expect((await t.town.call('convoy.show', { id: t.convoy.id })).dispatch_paused).toBe('paused: rig app budget reached');
    const other = await t.town.call('bead.create', { rig: 'app', title: 'waits' });
    await t.town.call('sling', { bead: other.id });
    await t.reconciler.tick();
    expect(t.effects.take('start_session')).toEqual([]);
    await t.town.call('rig.update', { name: 'app', budget_usd: null });
    await t.reconciler.tick();
    expect(t.effects.take('start_session').map((s) => s.bead)).toEqual([other.id]);
  });
});
