// The reconciler wakes on every event written, so a bead that becomes ready is dispatched
// at once rather than on the next timer tick; a burst of events runs one pass; a pass's own
// writes wake nothing (no pass loop).
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { typedClient } from '../src/shared/api';
import { ApiDispatcher } from '../src/main/api/dispatcher';
import { inMemoryTransport } from '../src/main/api/in-memory-transport';
import type { Clock } from '../src/main/reconciler/clock';
import type { Effect } from '../src/main/reconciler/effects';
import { Reconciler } from '../src/main/reconciler/reconciler';
import { addRig } from '../src/main/store/rigs';
import { openDatabase } from '../src/main/store/database';
import { Store } from '../src/main/store/store';
import { removeTempDirs, tempDir } from './helpers/town';
import { NO_SESSIONS } from './helpers/engine-context';

afterEach(() => removeTempDirs());

/** A clock whose timers fire only when the test says, so "no timer tick happened" is certain. */
class ManualClock implements Clock {
  t = Date.parse('2026-01-01T00:00:00Z');
  timers = new Map<number, { ms: number; fn: () => void }>();
  private n = 0;
  now = () => this.t;
  setTimeout(fn: () => void, ms: number) {
    this.timers.set(++this.n, { ms, fn });
    return this.n;
  }
  clearTimeout(h: unknown) {
    this.timers.delete(h as number);
  }
  /** Timers due within `ms` (the wake debounce), not the tick timer. */
  pending(maxMs: number) {
    return [...this.timers].filter(([, t]) => t.ms <= maxMs);
  }
  fire(maxMs: number) {
    for (const [id, t] of this.pending(maxMs)) {
      this.timers.delete(id);
      t.fn();
    }
  }
}

function setup() {
  const base = tempDir('wake');
  const clock = new ManualClock();
  const store = new Store(openDatabase(path.join(base, 'town.db')), clock);
  store.transaction(() =>
    addRig(store, { name: 'app', path: base, branch: 'main', prefix: 'ap', gates: [], setup: null, maxPolecats: 5, runtime: 'scripted', command: null, autoDispatch: true }),
  );
  const started: Effect[] = [];
  const reconciler = new Reconciler({ store, clock, effects: { run: async (e) => void started.push(e) }, worktreeRoot: path.join(base, 'wt') });
  // The API as the UI calls it, but with no manual wake: the event alone must do it.
  const dispatcher = new ApiDispatcher(
    { store, townDir: base, reconcilerMetrics: () => reconciler.metrics, ...NO_SESSIONS },
    'token',
  );
  const town = typedClient(inMemoryTransport(dispatcher, { kind: 'overseer' }));
  return { store, clock, reconciler, town, started };
}

describe('waking the reconciler', () => {
  it('dispatches a bead created in an auto-dispatch rig on the event, not on the timer', async () => {
    const t = setup();
    t.reconciler.start();
    t.clock.fire(10); // the start-up pass
    expect(t.clock.pending(10)).toHaveLength(0);

    const bead = await t.town.call('bead.create', { rig: 'app', title: 'ready at once' });
    expect(t.clock.pending(10)).toHaveLength(1); // the write asked for a pass within the debounce
    t.clock.fire(10);
    expect(t.started.filter((e) => e.type === 'start_session').map((e) => (e as { bead: string }).bead)).toEqual([bead.id]);
    // The pass wrote events of its own (hooked, in progress): they woke nothing.
    expect(t.clock.pending(10)).toHaveLength(0);
    await t.reconciler.stop();
  });

  it('runs one pass for a burst of events', async () => {
    const t = setup();
    t.reconciler.start();
    t.clock.fire(10);
    const before = t.reconciler.metrics.ticks;
    for (let i = 0; i < 20; i++) await t.town.call('bead.create', { rig: 'app', title: `burst ${i}` });
    expect(t.clock.pending(10)).toHaveLength(1);
    t.clock.fire(10);
    expect(t.reconciler.metrics.ticks - before).toBe(1);
    expect(t.started.filter((e) => e.type === 'start_session')).toHaveLength(5); // the rig's capacity
    expect(t.clock.pending(10)).toHaveLength(0);
    await t.reconciler.stop();
  });
});
