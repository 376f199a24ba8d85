// Bead commands: create, list, show, update, close, reopen, hold, release, dependencies, sling.
import { OVERSEER, WORK_BEAD_TYPES, type BeadType } from '../../shared/domain';
import { ApiError, conflict, invalid, notFound } from '../../shared/errors';
import { closeBeadForOverseer } from '../reconciler/transitions';
import { requireAgent } from '../store/agents';
import { addDependency, createBead, holdBead, releaseBead, reopenBead, removeDependency, requireBead, slingBead, updateBeadFields } from '../store/beads';
import { readySql } from '../store/ready';
import type { Store } from '../store/store';
import { beadView, getAgent, getBead, getRig, type BeadRow } from '../store/views';
import type { ApiParsedInput } from '../../shared/api';
import { beadById, type Handlers } from './context';

// A convoy or merge-request bead is the face of a row its own command writes, and mail has its
// own table: a bare bead of those types would be a convoy or MR with nothing behind it.
const MADE_ELSEWHERE: Record<Exclude<BeadType, (typeof WORK_BEAD_TYPES)[number]>, string> = {
  convoy: 'create convoys with `town convoy create` (convoy.create)',
  merge_request: 'merge requests are queued by `town done` when an agent finishes its bead',
  message: 'send messages with `town mail send` (mail.send)',
  escalation: 'escalate with `town done --status escalated` or `town mail send overseer`',
};

function assertWorkBeadType(type: BeadType) {
  if (type in MADE_ELSEWHERE) {
    const reason = MADE_ELSEWHERE[type as keyof typeof MADE_ELSEWHERE];
    throw invalid(`bead create makes work beads (${WORK_BEAD_TYPES.join(', ')}), not ${type}: ${reason}`, 'type');
  }
}

function listBeads(store: Store, f: ApiParsedInput<'bead.list'>) {
  const where: string[] = f.all ? [] : [`b.type NOT IN ('merge_request','convoy')`];
  const params: unknown[] = [];
  if (f.type) (where.push('b.type = ?'), params.push(f.type));
  if (f.rig) (where.push('b.rig_id = ?'), params.push(f.rig));
  if (f.status) (where.push('b.status = ?'), params.push(f.status));
  if (f.assignee) (where.push('b.assignee = ?'), params.push(f.assignee));
  if (f.label) (where.push(`EXISTS (SELECT 1 FROM json_each(b.labels) WHERE value = ?)`), params.push(f.label));
  if (f.ready) where.push(readySql('b'));
  return store
    .all<BeadRow>(`SELECT b.* FROM beads b ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY b.priority, b.created_at, b.id`, ...params)
    .map((r) => beadView(store, r));
}

export const beadHandlers: Handlers<
  'bead.create' | 'bead.list' | 'bead.show' | 'bead.update' | 'bead.close' | 'bead.reopen' | 'bead.hold' | 'bead.release' | 'dep.add' | 'dep.remove' | 'sling'
> = {
  'bead.create': (ctx, caller, input) => {
    const { store } = ctx;
    assertWorkBeadType(input.type);
    let rig = input.rig ?? null;
    if (caller.kind === 'agent' && !rig) rig = requireAgent(store, caller.agentId).rig_id;
    if (rig && !getRig(store, rig)) throw notFound('rig', rig, 'rig');
    input.after.forEach((id, i) => {
      if (!getBead(store, id)) throw notFound('bead', id, `after.${i}`);
    });
    return store.transaction(() => {
      const bead = createBead(store, {
        rig,
        type: input.type,
        title: input.title,
        body: input.body,
        priority: input.priority,
        labels: input.labels,
        metadata: { ...(input.scenario ? { scenario: input.scenario } : {}), ...(input.runtime ? { runtime: input.runtime } : {}) },
        origin: caller.kind === 'agent' ? { kind: 'agent', id: caller.agentId } : { kind: 'user', id: OVERSEER },
        parent: input.parent,
      });
      for (const dep of input.after) addDependency(store, bead.id, dep, 'blocks');
      return beadById(store, bead.id);
    });
  },

  'bead.list': (ctx, _c, input) => listBeads(ctx.store, input),

  'bead.show': (ctx, _c, input) => beadView(ctx.store, requireBead(ctx.store, input.id)),

  'bead.update': (ctx, caller, input) => {
    const { store } = ctx;
    const bead = requireBead(store, input.id);
    if (caller.kind === 'agent' && requireAgent(store, caller.agentId).hook_bead_id !== bead.id) {
      throw new ApiError('forbidden', `${caller.agentId} may only update its own hooked bead`, 'id');
    }
    let labels: string[] | undefined;
    if (input.add_labels || input.remove_labels) {
      const current = JSON.parse(bead.labels) as string[];
      labels = [...current, ...(input.add_labels ?? [])].filter((l) => !(input.remove_labels ?? []).includes(l));
    }
    store.transaction(() =>
      updateBeadFields(store, bead.id, {
        title: input.title,
        body: input.body,
        priority: input.priority,
        labels,
        metadata: input.scenario ? { scenario: input.scenario } : undefined,
      }),
    );
    ctx.wake();
    return beadById(store, bead.id);
  },

  'bead.close': (ctx, _c, input) => {
    const { store } = ctx;
    store.transaction(() => closeBeadForOverseer(store, input.id, input.reason ?? 'closed by overseer'));
    ctx.wake();
    return beadById(store, input.id);
  },

  'bead.reopen': (ctx, _c, input) => {
    const { store } = ctx;
    store.transaction(() => reopenBead(store, input.id, 'reopened by overseer'));
    ctx.wake();
    return beadById(store, input.id);
  },

  'bead.hold': (ctx, _c, input) => {
    const { store } = ctx;
    const bead = requireBead(store, input.id);
    if (bead.status !== 'open') {
      const holder = store.get<{ id: string }>('SELECT id FROM agents WHERE hook_bead_id = ?', bead.id);
      const how = holder ? `; stop its agent and hold it with town stop ${holder.id}` : '';
      throw conflict(`${bead.id} is ${bead.status}; only open beads can be held${how}`, 'id');
    }
    store.transaction(() => holdBead(store, bead.id, input.reason));
    return beadById(store, bead.id);
  },

  'bead.release': (ctx, _c, input) => {
    const { store } = ctx;
    store.transaction(() => releaseBead(store, input.id, 'released by overseer'));
    ctx.wake();
    return beadById(store, input.id);
  },

  'dep.add': (ctx, _c, input) => {
    const { store } = ctx;
    store.transaction(() => addDependency(store, input.bead, input.depends_on, input.type));
    ctx.wake();
    return beadById(store, input.bead);
  },

  'dep.remove': (ctx, _c, input) => {
    const { store } = ctx;
    if (input.type === 'tracks') throw invalid('remove convoy members with convoy.remove', 'type');
    store.transaction(() => removeDependency(store, input.bead, input.depends_on, input.type));
    return beadById(store, input.bead);
  },

  sling: (ctx, _c, input) => {
    const { store } = ctx;
    const bead = requireBead(store, input.bead, 'bead');
    if (bead.status !== 'open') throw conflict(`${bead.id} is ${bead.status}; only open beads can be slung`, 'bead');
    if (bead.held_at !== null) throw conflict(`${bead.id} is held; release it first (town release ${bead.id})`, 'bead');
    const target = input.target ?? bead.rig_id;
    if (!target) throw invalid(`${bead.id} has no rig; name one: town sling ${bead.id} RIG`, 'target');
    let rig: string | null = target;
    if (target.includes('/')) {
      const agent = getAgent(store, target);
      if (!agent || agent.role !== 'polecat') throw notFound('polecat', target, 'target');
      if (bead.rig_id && agent.rig_id !== bead.rig_id) throw conflict(`${target} works rig ${agent.rig_id}, not ${bead.rig_id}`, 'target');
      rig = agent.rig_id;
    } else {
      if (!getRig(store, target)) throw notFound('rig', target, 'target');
      if (bead.rig_id && bead.rig_id !== target) throw conflict(`${bead.id} belongs to rig ${bead.rig_id}`, 'target');
    }
    store.transaction(() => slingBead(store, bead.id, target, rig));
    return beadById(store, bead.id);
  },
};
