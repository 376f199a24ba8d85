// Rig writes. Adding a rig also creates its refinery agent.
import type { Gate, PermissionMode, RuntimeName } from '../../shared/domain';
import { conflict, notFound } from '../../shared/errors';
import { createAgent } from './agents';
import { townPrefix } from './beads';
import type { Store } from './store';
import { getRig, type RigRow } from './views';

export const refineryAgentId = (rig: string) => `${rig}/refinery`;

export function requireRig(store: Store, name: string, field = 'name'): RigRow {
  const rig = getRig(store, name);
  if (!rig) throw notFound('rig', name, field);
  return rig;
}

export interface NewRig {
  name: string;
  path: string;
  branch: string;
  prefix?: string;
  gates: Gate[];
  setup: string | null;
  /** Globs; null: the default list. */
  setupWatch?: string[] | null;
  maxPolecats: number;
  runtime: RuntimeName;
  command: string | null;
  permissions?: PermissionMode;
  model?: string | null;
  budgetUsd?: number | null;
  autoDispatch: boolean;
  remote?: string | null;
}

export function addRig(store: Store, r: NewRig): RigRow {
  if (r.prefix && store.get('SELECT 1 FROM rigs WHERE prefix = ?', r.prefix)) throw conflict(`prefix ${r.prefix} is taken`, 'prefix');
  const prefix = r.prefix ?? derivePrefix(store, r.name);
  store.run(
    `INSERT INTO rigs (id, name, path, default_branch, prefix, gates, setup_command, setup_watch, max_polecats, runtime, command_template,
       permissions, model, budget_usd, auto_dispatch, remote, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    r.name, r.name, r.path, r.branch, prefix, JSON.stringify(r.gates), r.setup, r.setupWatch ? JSON.stringify(r.setupWatch) : null, r.maxPolecats, r.runtime, r.command,
    r.permissions ?? 'bypass', r.model ?? null, r.budgetUsd ?? null, r.autoDispatch ? 1 : 0, r.remote ?? null, store.now(),
  );
  createAgent(store, { id: refineryAgentId(r.name), role: 'refinery', rig: r.name, name: 'refinery', runtime: null, worktree: null });
  store.event({ type: 'rig.added', payload: { rig: r.name, path: r.path, branch: r.branch } });
  store.touch('rig', r.name);
  return getRig(store, r.name)!;
}

export type RigChanges = Partial<Pick<RigRow, 'default_branch' | 'gates' | 'setup_command' | 'setup_watch' | 'max_polecats' | 'runtime' | 'command_template' | 'permissions' | 'model' | 'budget_usd' | 'auto_dispatch' | 'remote'>>;

export function updateRig(store: Store, id: string, changes: RigChanges, fields: string[]): RigRow {
  const rig = requireRig(store, id);
  const next = { ...rig, ...changes };
  store.run(
    `UPDATE rigs SET default_branch = ?, gates = ?, setup_command = ?, setup_watch = ?, max_polecats = ?, runtime = ?, command_template = ?,
       permissions = ?, model = ?, budget_usd = ?, auto_dispatch = ?, remote = ? WHERE id = ?`,
    next.default_branch, next.gates, next.setup_command, next.setup_watch, next.max_polecats, next.runtime, next.command_template,
    next.permissions, next.model, next.budget_usd, next.auto_dispatch, next.remote, rig.id,
  );
  store.event({ type: 'rig.updated', payload: { rig: rig.id, fields } });
  store.touch('rig', rig.id);
  return getRig(store, rig.id)!;
}

/** The shortest free prefix from the rig's name (letters first), never the town's own. */
function derivePrefix(store: Store, name: string): string {
  const base = name.toLowerCase().replace(/[^a-z0-9]/g, '').replace(/^[0-9]+/, '') || 'rig';
  for (let len = 2; len <= Math.min(8, base.length); len++) {
    const p = base.slice(0, len);
    if (!store.get('SELECT 1 FROM rigs WHERE prefix = ?', p) && p !== townPrefix(store)) return p;
  }
  for (let i = 2; ; i++) {
    const p = `${base.slice(0, 6)}${i}`;
    if (!store.get('SELECT 1 FROM rigs WHERE prefix = ?', p)) return p;
  }
}
