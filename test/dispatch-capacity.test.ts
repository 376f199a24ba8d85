// The dispatcher reads only as many beads as it has free slots (dispatch-candidates.ts): it
// must still start them in the documented order (priority, convoy position, age), skip what
// it may not start without losing a slot to it, and reach beads beyond the first N later.
import { afterEach, describe, expect, it } from 'vitest';
import type { Action } from '../src/main/reconciler/rules';
import { ruleTown } from './helpers/rule-town';
import { removeTempDirs } from './helpers/town';

afterEach(() => removeTempDirs());

const dispatched = (actions: Action[]) => actions.filter((a) => a.type === 'dispatch').map((a) => (a as { bead: string }).bead);

describe('dispatch with limited capacity', () => {
  it('starts the first ready beads in order, never loses a slot to one it may not start, and reaches later ones as slots free', async () => {
    const t = await ruleTown(1);
    const create = async (title: string, priority: number, more: { after?: string[]; labels?: string[] } = {}) => {
      t.clock.advance(1000); // distinct ages
      return (await t.town.call('bead.create', { rig: 'app', title, priority, ...more })).id;
    };
    // Backing off: its one dispatch failed to spawn a minute ago.
    const backingOff = await create('backing off', 0);
    await t.town.call('sling', { bead: backingOff });
    await t.reconciler.tick();
    t.spawnFailed(t.effects.take('start_session')[0], 'no such command');
    await t.reconciler.tick();
    expect((await t.town.call('bead.show', { id: backingOff })).status).toBe('open');

    // Ahead of the ready beads in dispatch order, all of priority 0: none may start now.
    const blocker = await create('blocker', 3);
    await create('blocked', 0, { after: [blocker] });
    const held = await create('held', 0);
    await t.town.call('bead.hold', { id: held });
    await create('escalated', 0, { labels: ['escalated'] });
    const first = await create('first', 1);
    const second = await create('second', 1);
    const third = await create('third', 2);

    await t.town.call('rig.update', { name: 'app', auto_dispatch: true });
    expect(dispatched((await t.reconciler.tick())!.actions)).toEqual([first]);
    expect(dispatched((await t.reconciler.tick())!.actions)).toEqual([]);

    // Two slots free: the next two in order, each once.
    await t.town.call('rig.update', { name: 'app', max_polecats: 3 });
    expect(dispatched((await t.reconciler.tick())!.actions)).toEqual([second, third]);
    expect(dispatched((await t.reconciler.tick())!.actions)).toEqual([]);

    // One more slot, and the backoff over: priority 0 goes before the blocker (priority 3).
    await t.town.call('rig.update', { name: 'app', max_polecats: 4 });
    t.clock.advance(5 * 60_000);
    expect(dispatched((await t.reconciler.tick())!.actions)).toEqual([backingOff]);
    await t.town.call('rig.update', { name: 'app', max_polecats: 5 });
    expect(dispatched((await t.reconciler.tick())!.actions)).toEqual([blocker]);
    const shown = await t.town.call('bead.list', { all: true });
    expect(shown.filter((b) => b.status === 'in_progress').map((b) => b.id).sort()).toEqual([first, second, third, backingOff, blocker].sort());
  });

  it('with room and nothing ready, starts a bead the moment its blocker closes', async () => {
    const t = await ruleTown(2);
    const blocker = (await t.town.call('bead.create', { rig: 'app', title: 'blocker' })).id;
    await t.town.call('bead.hold', { id: blocker });
    const blocked = (await t.town.call('bead.create', { rig: 'app', title: 'blocked', after: [blocker] })).id;
    await t.town.call('rig.update', { name: 'app', auto_dispatch: true });
    expect(dispatched((await t.reconciler.tick())!.actions)).toEqual([]);
    expect(dispatched((await t.reconciler.tick())!.actions)).toEqual([]); // the fruitless walk is remembered
    await t.town.call('bead.close', { id: blocker }); // no time passes: the write alone must wake it
    expect(dispatched((await t.reconciler.tick())!.actions)).toEqual([blocked]);
  });

  it('starts an active convoy by position, one slot at a time', async () => {
    const t = await ruleTown(1);
    const a = (await t.town.call('bead.create', { rig: 'app', title: 'a' })).id;
    const b = (await t.town.call('bead.create', { rig: 'app', title: 'b' })).id;
    const c = (await t.town.call('bead.create', { rig: 'app', title: 'c' })).id;
    // Convoy order c, b, a: the convoy's position decides among equal priorities.
    const convoy = await t.town.call('convoy.create', { title: 'x', beads: [c, b, a] });
    await t.town.call('convoy.start', { convoy: convoy.id });
    expect(dispatched((await t.reconciler.tick())!.actions)).toEqual([c]);
    await t.town.call('rig.update', { name: 'app', max_polecats: 2 });
    expect(dispatched((await t.reconciler.tick())!.actions)).toEqual([b]);
  });
});
