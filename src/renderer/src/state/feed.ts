// The renderer's copy of the town: normalized entities at a revision. Pure functions,
// so patch application and gap detection are unit-tested without a browser.
import type { AgentView, BeadView, ConvoyView, EntityKind, MailView, MergeRequestView, Patch, RigView, Snapshot } from '../../../shared/domain';

export interface Entities {
  rig: Record<string, RigView>;
  bead: Record<string, BeadView>;
  convoy: Record<string, ConvoyView>;
  agent: Record<string, AgentView>;
  merge_request: Record<string, MergeRequestView>;
  mail: Record<string, MailView>;
}

export interface FeedState {
  revision: number;
  entities: Entities;
}

const byId = <T extends { id: string }>(list: T[]): Record<string, T> => {
  const out: Record<string, T> = {};
  for (const x of list) out[x.id] = x;
  return out;
};

export function emptyFeed(): FeedState {
  return { revision: 0, entities: { rig: {}, bead: {}, convoy: {}, agent: {}, merge_request: {}, mail: {} } };
}

export function fromSnapshot(s: Snapshot): FeedState {
  return {
    revision: s.revision,
    entities: {
      rig: byId(s.rigs),
      bead: byId(s.beads),
      convoy: byId(s.convoys),
      agent: byId(s.agents),
      merge_request: byId(s.merge_requests),
      mail: byId(s.mail),
    },
  };
}

export type ApplyResult =
  | { kind: 'applied'; state: FeedState; changed: boolean }
  /** A revision is missing: the state cannot be trusted past `state.revision`; fetch a snapshot. */
  | { kind: 'gap'; state: FeedState; expected: number; got: number };

/**
 * Applies patches in revision order. Revisions at or below the state's are already in
 * it (they raced the snapshot) and are skipped; a jump past revision + 1 is a gap.
 * Only the entity kinds a patch touches get new objects, so unrelated selectors keep
 * their identity.
 */
export function applyPatches(state: FeedState, patches: Patch[]): ApplyResult {
  let revision = state.revision;
  let entities = state.entities;
  const copied = new Set<EntityKind>();
  for (const p of patches) {
    if (p.revision <= revision) continue;
    if (p.revision !== revision + 1) {
      return { kind: 'gap', state: { revision, entities }, expected: revision + 1, got: p.revision };
    }
    if (!copied.has(p.kind)) {
      if (entities === state.entities) entities = { ...entities };
      (entities as unknown as Record<string, Record<string, unknown>>)[p.kind] = { ...entities[p.kind] };
      copied.add(p.kind);
    }
    const table = entities[p.kind] as Record<string, unknown>;
    if (p.value === null) delete table[p.id];
    else table[p.id] = p.value;
    revision = p.revision;
  }
  const changed = entities !== state.entities;
  return { kind: 'applied', state: changed || revision !== state.revision ? { revision, entities } : state, changed };
}
