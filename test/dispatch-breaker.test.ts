// The town circuit breaker: many dispatch failures in a short window pause dispatch with
// the evidence, raise one escalation, and only failures after the overseer resumes count again.
import { afterEach, describe, expect, it } from 'vitest';
import { removeTempDirs } from './helpers/town';
import { ruleTown } from './helpers/rule-town';

afterEach(() => removeTempDirs());

const MIN = 60_000;

async function breakerTown() {
  const t = await ruleTown(2);
  await t.town.call('town.config', { set: { 'dispatch.breaker_failures': '3', 'dispatch.breaker_window': '30m', 'dispatch.backoff': '0', 'dispatch.max_attempts': '50' } });
  for (const title of ['a', 'b']) {
    const bead = await t.town.call('bead.create', { rig: 'app', title });
    await t.town.call('sling', { bead: bead.id });
  }
  /** One dispatch round: every start this tick fails; returns how many were started. */
  const failRound = async (error: string) => {
    await t.reconciler.tick();
    const starts = t.effects.take('start_session');
    for (const s of starts) t.spawnFailed(s, error);
    await t.reconciler.tick();
    return starts.length;
  };
  const escalations = () => t.store.all<{ severity: string; reason: string; evidence: string }>('SELECT severity, reason, evidence FROM escalations');
  return { ...t, failRound, escalations };
}

describe('the dispatch circuit breaker', () => {
  it('pauses dispatch after the configured failures in the window, says why, and escalates once', async () => {
    const t = await breakerTown();
    expect(await t.failRound('runtime not found: nope')).toBe(2);
    t.clock.advance(10 * MIN);
    expect((await t.town.call('town.status', {})).dispatch_paused).toBe(false);
    expect(await t.failRound('runtime not found: nope-2')).toBe(2); // 4 failures ≥ 3: tripped

    const status = await t.town.call('town.status', {});
    expect(status.dispatch_paused).toBe(true);
    expect(status.dispatch_pause?.by).toBe('breaker');
    expect(status.dispatch_pause?.evidence?.summary).toBe('4 dispatch failures in 30 min, last: runtime not found: nope-2');
    const raised = t.escalations();
    expect(raised).toHaveLength(1);
    expect(raised[0].severity).toBe('high');
    expect(JSON.parse(raised[0].evidence).summary).toContain('4 dispatch failures in 30 min');

    // Paused: nothing starts, nothing more is raised, however long the town waits.
    for (let i = 0; i < 3; i++) {
      t.clock.advance(40 * MIN);
      expect(await t.failRound('x')).toBe(0);
    }
    expect(t.escalations()).toHaveLength(1);
  });

  it('does not trip on failures spread wider than the window', async () => {
    const t = await breakerTown();
    await t.town.call('town.config', { set: { 'dispatch.breaker_failures': '4' } });
    expect(await t.failRound('e1')).toBe(2);
    t.clock.advance(31 * MIN); // the first two fall out of the window
    expect(await t.failRound('e2')).toBe(2);
    expect((await t.town.call('town.status', {})).dispatch_paused).toBe(false); // 4 in all, 2 in the window
    t.clock.advance(1 * MIN);
    expect(await t.failRound('e3')).toBe(2); // rounds 2 and 3: 4 within the window
    expect((await t.town.call('town.status', {})).dispatch_paused).toBe(true);
  });

  it('counts only failures after the overseer resumes, so old ones do not trip it again', async () => {
    const t = await breakerTown();
    await t.failRound('e1');
    await t.failRound('e2');
    expect((await t.town.call('town.status', {})).dispatch_paused).toBe(true);

    await t.town.call('town.config', { set: { dispatch_paused: 'false' } });
    const resumed = await t.town.call('town.status', {});
    expect(resumed.dispatch_paused).toBe(false);
    expect(resumed.dispatch_pause).toBeNull();
    // The four old failures are still inside the window, but dispatch goes on.
    await t.reconciler.tick();
    const starts = t.effects.take('start_session');
    expect(starts).toHaveLength(2);
    expect((await t.town.call('town.status', {})).dispatch_paused).toBe(false);
    for (const s of starts) t.spawned(s);
    await t.reconciler.tick();
    expect((await t.town.call('town.status', {})).dispatch_paused).toBe(false);
  });

  it('counts a runtime command the shell cannot find (exit 127) as a dispatch failure', async () => {
    const t = await breakerTown();
    await t.town.call('town.config', { set: { 'health.crash_backoff': '0' } });
    for (let round = 0; round < 2; round++) {
      await t.reconciler.tick();
      for (const s of t.effects.take('start_session')) {
        const session = t.spawned(s);
        await t.reconciler.tick();
        t.store.report({ type: 'session.exited', agent: s.agent, bead: s.bead, payload: { session, launch: s.launch, exit_code: 127, signal: null, reason: 'exited', tail: 'sh: 1: no-such-cli: not found\n' } });
      }
      await t.reconciler.tick();
    }
    const status = await t.town.call('town.status', {});
    expect(status.dispatch_paused).toBe(true);
    expect(status.dispatch_pause?.evidence?.summary).toMatch(/^\d+ dispatch failures in 30 min, last: the runtime exited 127 \(sh: 1: no-such-cli: not found\)$/);
  });
});
