// Convoy commands: plan, reorder and start groups of beads.
import { conflict, notFound } from '../../shared/errors';
import { addConvoyMembers, createConvoy, moveConvoyMember, removeConvoyMembers, requireConvoy, requireConvoyMember, setConvoyBudget, startConvoy } from '../store/convoys';
import { reviewChangedBudget } from '../reconciler/budgets';
import { ensureConvoyBranch } from '../refinery/convoy-branch';
import { convoyBranch } from '../store/convoy-branches';
import { convoyView, type RigRow } from '../store/views';
import type { Handlers } from './context';

export const convoyHandlers: Handlers<'convoy.create' | 'convoy.update' | 'convoy.add' | 'convoy.remove' | 'convoy.move' | 'convoy.start' | 'convoy.list' | 'convoy.show'> = {
  'convoy.create': (ctx, _c, input) => {
    const { store } = ctx;
    input.beads.forEach((id, i) => requireConvoyMember(store, id, `beads.${i}`));
    const id = store.transaction(() => {
      const created = createConvoy(store, input.title, input.beads, input.mode, input.budget_usd ?? null);
      // Members may have spent already (reworked beads moved into a new convoy).
      if (input.budget_usd !== undefined) reviewChangedBudget(store, 'convoy', created);
      return created;
    });
    return convoyView(store, id)!;
  },

  'convoy.update': (ctx, _c, input) => {
    const { store } = ctx;
    const convoy = requireConvoy(store, input.convoy, 'convoy');
    store.transaction(() => {
      setConvoyBudget(store, convoy.id, input.budget_usd);
      reviewChangedBudget(store, 'convoy', convoy.id);
    });
    ctx.wake();
    return convoyView(store, convoy.id)!;
  },

  'convoy.add': (ctx, _c, input) => {
    const { store } = ctx;
    const convoy = requireConvoy(store, input.convoy, 'convoy');
    if (convoy.status === 'landed') throw conflict(`${convoy.id} has landed; create a new convoy`, 'convoy');
    // An integration convoy's landing merges convoy/<id> as it was: work added after it would never land.
    const landing = store.get<{ id: string }>('SELECT id FROM merge_requests WHERE source_bead_id = ? LIMIT 1', convoy.id);
    if (landing) throw conflict(`${convoy.id} is landing (${landing.id}); put more work in a new convoy`, 'convoy');
    input.beads.forEach((id, i) => requireConvoyMember(store, id, `beads.${i}`));
    store.transaction(() => {
      addConvoyMembers(store, convoy.id, input.beads);
      reviewChangedBudget(store, 'convoy', convoy.id);
    });
    ctx.wake();
    return convoyView(store, convoy.id)!;
  },

  'convoy.remove': (ctx, _c, input) => {
    const { store } = ctx;
    const convoy = requireConvoy(store, input.convoy, 'convoy');
    if (convoy.status === 'landed') throw conflict(`${convoy.id} has landed; its members are history`, 'convoy');
    input.beads.forEach((id, i) => {
      if (!store.get('SELECT 1 FROM convoy_members WHERE convoy_id = ? AND bead_id = ?', convoy.id, id)) {
        throw notFound('member', `${id} in ${convoy.id}`, `beads.${i}`);
      }
    });
    store.transaction(() => {
      removeConvoyMembers(store, convoy.id, input.beads);
      reviewChangedBudget(store, 'convoy', convoy.id);
    });
    ctx.wake();
    return convoyView(store, convoy.id)!;
  },

  'convoy.move': (ctx, _c, input) => {
    const { store } = ctx;
    const convoy = requireConvoy(store, input.convoy, 'convoy');
    store.transaction(() => moveConvoyMember(store, convoy.id, input.bead, input.position));
    return convoyView(store, convoy.id)!;
  },

  'convoy.start': async (ctx, _c, input) => {
    const { store } = ctx;
    store.transaction(() => startConvoy(store, input.convoy));
    const convoy = convoyView(store, input.convoy)!;
    // Integration mode: convoy/<id> starts at each member rig's default branch now.
    if (convoy.mode === 'integration') {
      const rigs = store.all<RigRow>(
        `SELECT DISTINCT r.* FROM convoy_members m JOIN beads b ON b.id = m.bead_id JOIN rigs r ON r.id = b.rig_id WHERE m.convoy_id = ?`,
        convoy.id,
      );
      for (const rig of rigs) await ensureConvoyBranch(rig, convoyBranch(convoy.id));
    }
    return convoy;
  },

  'convoy.list': (ctx) =>
    ctx.store.all<{ id: string }>('SELECT c.id FROM convoys c JOIN beads b ON b.id = c.id ORDER BY b.created_at').map((c) => convoyView(ctx.store, c.id)!),

  'convoy.show': (ctx, _c, input) => {
    requireConvoy(ctx.store, input.id, 'id');
    return convoyView(ctx.store, input.id)!;
  },
};
