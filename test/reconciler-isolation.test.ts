// One action that cannot be applied (here: a polecat for a rig that does not exist) is
// rolled back alone and reported; the pass still applies every other action, so one bad
// record never stalls dispatch for the whole town.
import { afterEach, describe, expect, it } from 'vitest';
import { Reconciler } from '../src/main/reconciler/reconciler';
import { RULES, type Rule } from '../src/main/reconciler/rules';
import { getBead } from '../src/main/store/views';
import { ruleTown } from './helpers/rule-town';
import { removeTempDirs } from './helpers/town';

afterEach(() => removeTempDirs());

describe('a pass with an action that throws', () => {
  it('applies the other actions and reports the one that failed', async () => {
    const t = await ruleTown();
    const poisoned = await t.town.call('bead.create', { rig: 'app', title: 'dispatched to a rig that is gone' });
    const fine = await t.town.call('bead.create', { rig: 'app', title: 'dispatched as usual' });
    await t.town.call('sling', { bead: fine.id });
    // A rule that asks for a polecat of a rig the store does not have: its insert fails.
    const broken: Rule = () => [{ type: 'dispatch', bead: poisoned.id, rig: 'gone', agent: 'gone/polecats/x', newPolecat: 'x' }];
    const logged: string[] = [];
    const reconciler = new Reconciler({ store: t.store, clock: t.clock, effects: t.effects, worktreeRoot: t.worktreeRoot, rules: { broken, ...RULES }, log: (m) => logged.push(m) });
    await reconciler.tick();

    expect(getBead(t.store, fine.id)?.status).toBe('in_progress');
    expect(t.effects.take('start_session').map((e) => e.bead)).toEqual([fine.id]);
    // The failed action left nothing half-done, and said why.
    expect(getBead(t.store, poisoned.id)?.status).toBe('open');
    expect(t.store.get('SELECT 1 FROM agents WHERE id = ?', 'gone/polecats/x')).toBeUndefined();
    expect(reconciler.metrics.recent.summary(1).recent.at(-1)?.rule_errors).toBe(1);
    expect(logged.join('\n')).toMatch(/applying dispatch failed: .*FOREIGN KEY/);
  });
});
