// A runtime's hooks at the engine: an agent whose turns keep ending without `town done` is
// reminded a few times, then the overseer is asked once; and a hook that does not come from
// the agent's live session (no session yet, or an old token) is refused and changes nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { typedClient } from '../src/shared/api';
import { inMemoryTransport } from '../src/main/api/in-memory-transport';
import type { Effect } from '../src/main/reconciler/effects';
import { MAX_FINISH_REMINDERS } from '../src/main/reconciler/rules';
import { getAgent, getBead } from '../src/main/store/views';
import { removeTempDirs } from './helpers/town';
import { healthyTown } from './helpers/working-town';

afterEach(() => removeTempDirs());

const MIN = 60_000;
type Town = Awaited<ReturnType<typeof healthyTown>>;
const eventCount = (t: Town) => t.store.get<{ n: number }>('SELECT count(*) AS n FROM events')!.n;
const startOf = (t: Town, bead: string) => t.effects.effects.find((e) => e.type === 'start_session' && e.bead === bead) as Effect & { type: 'start_session' };
const blocked = { runtime: 'claude', event: 'limit', message: 'API Error: Request rejected (429)' } as const;

describe('runtime hooks at the engine', () => {
  it(`reminds an agent whose turns end without town done ${MAX_FINISH_REMINDERS} times, then escalates once and types nothing more`, async () => {
    const t = await healthyTown();
    const hooks = typedClient(inMemoryTransport(t.dispatcher, { kind: 'agent', agentId: t.agent }));
    /** One turn that ends without town done, and a minute at the prompt: the nudges typed. */
    const turn = async () => {
      const before = t.effects.effects.length;
      await hooks.call('agent.runtime_event', { runtime: 'claude', event: 'prompt' });
      await hooks.call('agent.runtime_event', { runtime: 'claude', event: 'turn_end', message: 'I committed it.' });
      await t.reconciler.tick();
      t.clock.advance(MIN + 1000);
      await t.reconciler.tick();
      return t.effects.effects.slice(before).flatMap((e) => (e.type === 'nudge_session' ? [e] : []));
    };
    for (let i = 0; i < MAX_FINISH_REMINDERS; i++) {
      const [nudge, ...more] = await turn();
      expect(more).toEqual([]);
      expect(nudge).toMatchObject({ type: 'nudge_session', agent: t.agent, session: 's1' });
      expect(nudge.text).toContain(`${t.work} is not done`);
    }
    expect(await t.town.call('escalation.list', {})).toEqual([]);

    // Reminded enough: the overseer is asked instead, once, and nothing more is typed.
    expect(await turn()).toEqual([]);
    expect(await turn()).toEqual([]);
    const escalations = await t.town.call('escalation.list', {});
    expect(escalations.map((e) => [e.severity, e.reason, e.agent, e.bead])).toEqual([['medium', 'agent does not finish', t.agent, t.work]]);
    expect(escalations[0].body).toContain(`reminded ${MAX_FINISH_REMINDERS} times`);
  });

  it('refuses a hook from an agent token with no live session: a typed conflict, no event, the bead not held', async () => {
    const t = await healthyTown();
    // The spare bead's agent is dispatched, its process not yet spawned: its token exists, its session does not.
    await t.town.call('sling', { bead: t.spare });
    await t.reconciler.tick();
    const start = startOf(t, t.spare);
    const caller = t.dispatcher.authenticate(start.token);
    expect(caller).toEqual({ kind: 'agent', agentId: start.agent });
    const before = { events: eventCount(t), agent: getAgent(t.store, start.agent), bead: getBead(t.store, t.spare) };

    await expect(t.dispatcher.dispatch(caller, 'agent.runtime_event', blocked)).rejects.toMatchObject({ code: 'conflict', field: 'state' });
    await t.reconciler.tick();
    expect(eventCount(t)).toBe(before.events);
    expect(getAgent(t.store, start.agent)).toMatchObject({ status: before.agent!.status, last_hook: null, stop_reason: null });
    expect(getBead(t.store, t.spare)).toMatchObject({ status: 'in_progress', held_at: null });
    expect(await t.town.call('escalation.list', {})).toEqual([]);

    // The same hook from the working agent's live session does pause it: the refusal is what kept the spare.
    const live = t.dispatcher.authenticate(startOf(t, t.work).token);
    await t.dispatcher.dispatch(live, 'agent.runtime_event', blocked);
    await t.reconciler.tick();
    expect(getBead(t.store, t.work)!.held_at).not.toBeNull();
  });

  it("refuses a hook carrying a token of the agent's ended session: unauthorized, nothing recorded", async () => {
    const t = await healthyTown();
    const old = startOf(t, t.work).token;
    t.store.report({ type: 'session.exited', agent: t.agent, bead: t.work, payload: { session: 's1', exit_code: 1, signal: null, reason: 'exited' } });
    await t.reconciler.tick();
    expect(() => t.dispatcher.authenticate(old)).toThrow(expect.objectContaining({ code: 'unauthorized' }));
    // Relaunched with a new token, the old one still opens nothing.
    t.clock.advance(10 * MIN);
    await t.reconciler.tick();
    const restart = t.effects.effects.filter((e) => e.type === 'start_session' && e.agent === t.agent).at(-1) as Effect & { type: 'start_session' };
    expect(restart.token).not.toBe(old);
    expect(t.dispatcher.authenticate(restart.token)).toEqual({ kind: 'agent', agentId: t.agent });
    expect(() => t.dispatcher.authenticate(old)).toThrow(expect.objectContaining({ code: 'unauthorized' }));
    expect(getAgent(t.store, t.agent)!.last_hook).toBeNull();
  });

  it('keeps a paused agent for its own bead: other work goes to another polecat, and released, the bead goes back to it', async () => {
    const t = await healthyTown();
    const hooks = typedClient(inMemoryTransport(t.dispatcher, { kind: 'agent', agentId: t.agent }));
    await hooks.call('agent.runtime_event', { runtime: 'claude', event: 'limit', message: 'API Error: Request rejected (429)' });
    await t.reconciler.tick();
    t.store.report({ type: 'session.exited', agent: t.agent, bead: t.work, payload: { session: 's1', exit_code: 143, signal: null, reason: 'hold' } });
    await t.reconciler.tick();
    expect(getAgent(t.store, t.agent)).toMatchObject({ status: 'idle', hook_bead_id: null });
    expect(getBead(t.store, t.work)).toMatchObject({ slung_to: t.agent, held_reason: `${t.agent} paused: usage limit reached` });

    await t.town.call('sling', { bead: t.spare });
    await t.reconciler.tick();
    expect(startOf(t, t.spare).agent).not.toBe(t.agent);
    expect(getAgent(t.store, t.agent)!.hook_bead_id).toBeNull();

    await t.town.call('bead.release', { id: t.work });
    await t.reconciler.tick();
    const again = t.effects.effects.filter((e) => e.type === 'start_session' && e.bead === t.work);
    expect(again.map((e) => (e as Effect & { type: 'start_session' }).agent)).toEqual([t.agent, t.agent]);
  });
});
