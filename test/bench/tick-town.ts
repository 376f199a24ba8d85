// P1's town and its tick timer, shared by the reconciler bench (1k / 10k beads) and the
// import bench (100k imported beads). A tick is timed with one pending event, as in a live
// town; side effects are not run (noEffects), so it measures the engine's own pass.
import type { Effect, EffectRunner } from '../../src/main/reconciler/effects';
import { Reconciler } from '../../src/main/reconciler/reconciler';
import { createAgent } from '../../src/main/store/agents';
import { addDependency, createBead } from '../../src/main/store/beads';
import { createConvoy } from '../../src/main/store/convoys';
import { addRig } from '../../src/main/store/rigs';
import type { Store } from '../../src/main/store/store';

export const noEffects: EffectRunner = { run: async (_e: Effect) => {} };

export function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { min: s[0], median: at(0.5), p95: at(0.95) };
}
export const fmt = (xs: number[], d = 2) => {
  const s = stats(xs);
  return `min ${s.min.toFixed(d)} / median ${s.median.toFixed(d)} / p95 ${s.p95.toFixed(d)} ms`;
};

/**
 * A town of `beads` beads: half in staged convoys of 10 in the rig `app` (with `agents`/2 idle
 * polecats), half open in the auto-dispatch rig `auto` (every third blocked by the one before,
 * every 50th an epic over the next ten), whose `busy` slots are all taken.
 */
export function buildTickTown(store: Store, work: string, beads: number, agents: number, busy = 30) {
  const origin = { kind: 'user', id: 'overseer' } as const;
  store.transaction(() => {
    store.setSetting('config.town.max_polecats', 10_000);
    addRig(store, { name: 'app', path: work, branch: 'main', prefix: 'ap', gates: [], setup: null, maxPolecats: agents, runtime: 'scripted', command: null, autoDispatch: false });
    addRig(store, { name: 'auto', path: work, branch: 'main', prefix: 'au', gates: [], setup: null, maxPolecats: busy, runtime: 'scripted', command: null, autoDispatch: true });
    for (let i = 0; i < agents / 2; i++) createAgent(store, { id: `app/polecats/p${i}`, role: 'polecat', rig: 'app', name: `p${i}`, runtime: null, worktree: null });
    let convoy: string[] = [];
    for (let i = 0; i < beads / 2; i++) {
      convoy.push(createBead(store, { rig: 'app', type: 'task', title: `bead ${i}`, body: '', priority: 2, labels: [], metadata: {}, origin }).id);
      if (convoy.length === 10) (createConvoy(store, `convoy ${i / 10}`, convoy), (convoy = []));
    }
    let prev = '';
    let epic = '';
    for (let i = 0; i < beads / 2; i++) {
      const type = i % 50 === 0 ? 'epic' : 'task';
      const b = createBead(store, { rig: 'auto', type, title: `auto ${i}`, body: '', priority: i % 4, labels: [], metadata: {}, origin });
      if (i % 3 === 1) addDependency(store, b.id, prev, 'blocks');
      if (type === 'epic') epic = b.id;
      else if (i % 50 <= 10) addDependency(store, b.id, epic, 'parent-child');
      prev = b.id;
    }
  });
}

/** Ticks `n` times after a warm-up, each with one pending event; `before` runs untimed ahead of each tick. */
export function timeTicks(store: Store, reconciler: Reconciler, agentIds: string[], n: number, before?: () => void): number[] {
  const times: number[] = [];
  for (let i = 0; i < 20 + n; i++) {
    store.report({ type: 'session.activity', agent: agentIds[i % agentIds.length], payload: { session: 'none' } });
    before?.();
    const t = performance.now();
    void reconciler.tick();
    if (i >= 20) times.push(performance.now() - t);
  }
  return times;
}

export function tickReconciler(store: Store, work: string) {
  return new Reconciler({ store, clock: store.clock, effects: noEffects, worktreeRoot: work });
}

/** Slots of the rig now taken by hooked polecats. */
export const liveIn = (store: Store, rig: string) =>
  store.get<{ n: number }>(`SELECT count(*) AS n FROM agents WHERE rig_id = ? AND hook_bead_id IS NOT NULL`, rig)!.n;
