// The engine's API: one handler per method of the contract in src/shared/api.ts.
// Inputs arrive validated; every write is one store transaction.
import fs from 'node:fs';
import path from 'node:path';
import type { ApiMethod, ApiOutput, ApiParsedInput, Caller } from '../../shared/api';
import { OVERSEER, WORK_BEAD_TYPES, type BeadType, type Gate, type PriorWorkView, type Snapshot } from '../../shared/domain';
import { ApiError, conflict, invalid, notFound } from '../../shared/errors';
import { branchExists, commitsAhead } from '../git/branches';
import { git, gitOk } from '../git/git-cli';
import { resolveRef } from '../git/merge';
import { CONFIG_KEYS, isConfigKey, readConfig, validateConfigValue } from '../reconciler/config';
import { returnBeadAfterInterruption } from '../reconciler/transitions';
import { refineryAgentId } from '../refinery/refinery';
import { createAgent, releaseAgent, requireAgent } from '../store/agents';
import { addDependency, assertNotTerminal, createBead, requireBead, setBeadStatus, touchBead, townPrefix, updateBeadFields } from '../store/beads';
import { sendMail } from '../store/mail';
import { queueMergeRequest, setMergeRequestState } from '../store/merge-requests';
import type { Store } from '../store/store';
import {
  agentView,
  beadView,
  convoyView,
  eventView,
  getAgent,
  getBead,
  getRig,
  mailView,
  mergeRequestView,
  rigView,
  sessionView,
  type AgentRow,
  type BeadRow,
  type EventRow,
  type MailRow,
  type MergeRequestRow,
  type RigRow,
  type SessionRow,
} from '../store/views';
import { rolePrompt } from '../runtimes/role-prompts';

/** What handlers need from the running engine beyond the store. */
export interface EngineContext {
  store: Store;
  townDir: string;
  reconcilerMetrics(): { ticks: number; lastTickMs: number; violations: string[] };
  /** Kill-then-status for an agent's live session; resolves after the store reflects it. */
  stopAgentSession(agentId: string, reason: string): Promise<boolean>;
  writeToAgent(agentId: string, data: string): number;
  wake(): void;
}

type Handler<M extends ApiMethod> = (ctx: EngineContext, caller: Caller, input: ApiParsedInput<M>) => ApiOutput<M> | Promise<ApiOutput<M>>;
type Handlers = { [M in ApiMethod]: Handler<M> };

const callerId = (c: Caller) => (c.kind === 'agent' ? c.agentId : OVERSEER);

function requireCallerAgent(ctx: EngineContext, caller: Caller): AgentRow {
  if (caller.kind !== 'agent') throw new ApiError('forbidden', 'this command is for agents: run it inside an agent session (TOWN_TOKEN)');
  return requireAgent(ctx.store, caller.agentId);
}

function requireConvoy(store: Store, id: string, field: string) {
  const c = store.get<{ id: string; status: string }>('SELECT id, status FROM convoys WHERE id = ?', id);
  if (!c) throw notFound('convoy', id, field);
  return c;
}

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

const beadOut = (store: Store, row: BeadRow) => beadView(store, row);
const beadById = (store: Store, id: string) => beadOut(store, getBead(store, id)!);

function listBeads(store: Store, f: ApiParsedInput<'bead.list'>) {
  const where: string[] = [`type NOT IN ('merge_request','convoy')`];
  const params: unknown[] = [];
  if (f.type) {
    where[0] = 'type = ?';
    params.push(f.type);
  }
  if (f.rig) (where.push('rig_id = ?'), params.push(f.rig));
  if (f.status) (where.push('status = ?'), params.push(f.status));
  if (f.assignee) (where.push('assignee = ?'), params.push(f.assignee));
  if (f.label) (where.push(`EXISTS (SELECT 1 FROM json_each(labels) WHERE value = ?)`), params.push(f.label));
  return store
    .all<BeadRow>(`SELECT * FROM beads WHERE ${where.join(' AND ')} ORDER BY priority, created_at, id`, ...params)
    .map((r) => beadOut(store, r));
}

function snapshot(store: Store): Snapshot {
  return store.db.transaction(() => ({
    revision: store.revision,
    rigs: store.all<RigRow>('SELECT * FROM rigs ORDER BY name').map(rigView),
    beads: store.all<BeadRow>('SELECT * FROM beads ORDER BY created_at, id').map((r) => beadOut(store, r)),
    convoys: store.all<{ id: string }>('SELECT id FROM convoys').map((c) => convoyView(store, c.id)!),
    agents: store.all<AgentRow>('SELECT * FROM agents ORDER BY id').map((a) => agentView(store, a)),
    merge_requests: store.all<MergeRequestRow>('SELECT * FROM merge_requests ORDER BY created_at').map(mergeRequestView),
    mail: store.all<MailRow>('SELECT * FROM mail ORDER BY created_at').map(mailView),
  }))();
}

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

async function validateRepository(dir: string): Promise<string> {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw invalid(`${abs} is not a directory`, 'path');
  if (!fs.existsSync(path.join(abs, '.git')) || !fs.statSync(path.join(abs, '.git')).isDirectory()) {
    throw invalid(`${abs} is not the top of a git repository (no .git directory)`, 'path');
  }
  if (!(await gitOk(abs, ['rev-parse', '--git-dir']))) throw invalid(`${abs} is not a git repository git can read`, 'path');
  return abs;
}

export const handlers: Handlers = {
  'town.status': (ctx) => {
    const { store } = ctx;
    const counts: Record<string, number> = {};
    for (const r of store.all<{ status: string; n: number }>(
      `SELECT status, count(*) AS n FROM beads WHERE type NOT IN ('merge_request','convoy') GROUP BY status`,
    )) counts[r.status] = r.n;
    const agents = store.get<{ total: number; working: number }>(
      `SELECT count(*) AS total, coalesce(sum(status IN ('starting','working','waiting','stalled')), 0) AS working FROM agents WHERE role = 'polecat'`,
    )!;
    const mem = process.memoryUsage();
    const m = ctx.reconcilerMetrics();
    return {
      town: ctx.townDir,
      pid: process.pid,
      revision: store.revision,
      dispatch_paused: store.setting('dispatch_paused', false),
      counts,
      agents,
      memory: { rss_mb: Math.round(mem.rss / 1048576), heap_mb: Math.round(mem.heapUsed / 1048576) },
      reconciler: { ticks: m.ticks, last_tick_ms: Math.round(m.lastTickMs * 100) / 100, violations: m.violations },
    };
  },

  'town.snapshot': (ctx) => snapshot(ctx.store),

  'town.config': (ctx, _c, input) => {
    const { store } = ctx;
    if (input.set) {
      const entries = Object.entries(input.set);
      for (const [key, value] of entries) {
        if (key === 'dispatch_paused') {
          if (typeof value !== 'boolean') throw invalid('expected true or false', `set.${key}`);
          continue;
        }
        if (key === 'town_prefix') {
          if (typeof value !== 'string' || !/^[a-z][a-z0-9]{0,7}$/.test(value)) throw invalid('lowercase letters and digits', `set.${key}`);
          continue;
        }
        if (!isConfigKey(key)) throw invalid(`unknown setting ${key}; known: ${[...CONFIG_KEYS, 'dispatch_paused', 'town_prefix'].join(', ')}`, `set.${key}`);
        const problem = validateConfigValue(key, value);
        if (problem) throw invalid(problem, `set.${key}`);
      }
      store.transaction(() => {
        for (const [key, value] of entries) {
          store.setSetting(isConfigKey(key) ? `config.${key}` : key, value);
          store.event({ type: 'config.set', payload: { key, value } });
        }
      });
      ctx.wake();
    }
    return { ...readConfig(store), dispatch_paused: store.setting('dispatch_paused', false), town_prefix: townPrefix(store) };
  },

  'events.list': (ctx, _c, input) => {
    const order = input.latest ? 'DESC' : 'ASC';
    const rows = input.bead
      ? ctx.store.all<EventRow>(`SELECT * FROM events WHERE bead_id = ? AND seq > ? ORDER BY seq ${order} LIMIT ?`, input.bead, input.after ?? 0, input.limit)
      : ctx.store.all<EventRow>(`SELECT * FROM events WHERE seq > ? ORDER BY seq ${order} LIMIT ?`, input.after ?? 0, input.limit);
    if (input.latest) rows.reverse();
    return rows.map(eventView);
  },

  'rig.add': async (ctx, _c, input) => {
    const { store } = ctx;
    if (getRig(store, input.name)) throw conflict(`a rig named ${input.name} exists`, 'name');
    const repo = await validateRepository(input.path);
    let branch = input.default_branch;
    if (!branch) {
      const head = (await git(repo, ['symbolic-ref', '--short', '-q', 'HEAD'], { allowFail: true })).trim();
      if (!head) throw invalid('the repository has a detached HEAD; pass --branch', 'default_branch');
      branch = head;
    }
    if (!(await branchExists(repo, branch))) throw invalid(`branch ${branch} does not exist in ${repo} (it needs at least one commit)`, 'default_branch');
    if (input.prefix && store.get('SELECT 1 FROM rigs WHERE prefix = ?', input.prefix)) throw conflict(`prefix ${input.prefix} is taken`, 'prefix');
    if (input.runtime === 'shell' && !input.command) throw invalid('the shell runtime needs --command', 'command');
    const gates: Gate[] = [...(input.gates ?? [])];
    if (input.test) gates.unshift({ name: 'test', command: input.test, timeout_s: 600 });
    return store.transaction(() => {
      const prefix = input.prefix ?? derivePrefix(store, input.name);
      store.run(
        `INSERT INTO rigs (id, name, path, default_branch, prefix, gates, setup_command, max_polecats, runtime, command_template, auto_dispatch, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        input.name, input.name, repo, branch, prefix, JSON.stringify(gates), input.setup ?? null, input.max_polecats,
        input.runtime, input.command ?? null, input.auto_dispatch ? 1 : 0, store.now(),
      );
      createAgent(store, { id: refineryAgentId(input.name), role: 'refinery', rig: input.name, name: 'refinery', runtime: null, worktree: null });
      store.event({ type: 'rig.added', payload: { rig: input.name, path: repo, branch } });
      store.touch('rig', input.name);
      return rigView(getRig(store, input.name)!);
    });
  },

  'rig.list': (ctx) => ctx.store.all<RigRow>('SELECT * FROM rigs ORDER BY name').map(rigView),

  'rig.show': async (ctx, _c, input) => {
    const { store } = ctx;
    const rig = getRig(store, input.name);
    if (!rig) throw notFound('rig', input.name, 'name');
    const polecats = store.all<AgentRow>(`SELECT * FROM agents WHERE rig_id = ? AND role = 'polecat' ORDER BY name`, rig.id).map((a) => agentView(store, a));
    const owner = new Map(polecats.filter((p) => p.branch).map((p) => [p.branch!, p.id]));
    const out = await git(rig.path, ['for-each-ref', '--format=%(refname:short) %(objectname)', `refs/heads/${rig.default_branch}`, 'refs/heads/polecat/'], { allowFail: true });
    const branches = out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name, sha] = line.split(' ');
        return { name, sha, agent: owner.get(name) ?? null };
      });
    return { rig: rigView(rig), polecats, branches };
  },

  'rig.update': async (ctx, _c, input) => {
    const { store } = ctx;
    const rig = getRig(store, input.name);
    if (!rig) throw notFound('rig', input.name, 'name');
    if (input.default_branch && !(await branchExists(rig.path, input.default_branch))) {
      throw invalid(`branch ${input.default_branch} does not exist in ${rig.path}`, 'default_branch');
    }
    const runtime = input.runtime ?? rig.runtime;
    const command = input.command === undefined ? rig.command_template : input.command || null;
    if (runtime === 'shell' && !command) throw invalid('the shell runtime needs a command template', 'command');
    store.transaction(() => {
      store.run(
        `UPDATE rigs SET default_branch = ?, gates = ?, setup_command = ?, max_polecats = ?, runtime = ?, command_template = ?, auto_dispatch = ? WHERE id = ?`,
        input.default_branch ?? rig.default_branch,
        input.gates ? JSON.stringify(input.gates) : rig.gates,
        input.setup === undefined ? rig.setup_command : input.setup || null,
        input.max_polecats ?? rig.max_polecats,
        runtime,
        command,
        input.auto_dispatch === undefined ? rig.auto_dispatch : input.auto_dispatch ? 1 : 0,
        rig.id,
      );
      store.event({ type: 'rig.updated', payload: { rig: rig.id, fields: Object.keys(input).filter((k) => k !== 'name') } });
      store.touch('rig', rig.id);
    });
    ctx.wake();
    return rigView(getRig(store, rig.id)!);
  },

  'rig.check': async (_ctx, _c, input) => {
    const abs = path.resolve(input.path);
    const result = (problem: string | null, field: string | null, branches: string[] = [], current: string | null = null) => ({
      path: abs, ok: problem === null, problem, field, branches, current_branch: current,
    });
    try {
      await validateRepository(abs);
    } catch (err) {
      return result((err as Error).message, 'path');
    }
    const branches = (await git(abs, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/'], { allowFail: true })).split('\n').filter(Boolean);
    const current = (await git(abs, ['symbolic-ref', '--short', '-q', 'HEAD'], { allowFail: true })).trim() || null;
    if (branches.length === 0) return result(`${abs} has no commits yet; commit something first`, 'path', branches, current);
    const wanted = input.default_branch ?? current;
    if (!wanted) return result('the repository has a detached HEAD; choose a default branch', 'default_branch', branches, current);
    if (!branches.includes(wanted)) return result(`branch ${wanted} does not exist in ${abs}`, 'default_branch', branches, current);
    return result(null, null, branches, current);
  },

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
        metadata: input.scenario ? { scenario: input.scenario } : {},
        origin: caller.kind === 'agent' ? { kind: 'agent', id: caller.agentId } : { kind: 'user', id: OVERSEER },
        parent: input.parent,
      });
      for (const dep of input.after) addDependency(store, bead.id, dep, 'blocks');
      return beadById(store, bead.id);
    });
  },

  'bead.list': (ctx, _c, input) => listBeads(ctx.store, input),

  'bead.show': (ctx, _c, input) => beadOut(ctx.store, requireBead(ctx.store, input.id)),

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
    const bead = requireBead(store, input.id);
    assertNotTerminal(bead, 'close it');
    const holder = store.get<{ id: string }>('SELECT id FROM agents WHERE hook_bead_id = ?', bead.id);
    if (holder) throw conflict(`${bead.id} is hooked by ${holder.id}; stop that agent first (town stop ${holder.id})`, 'id');
    const inFlight = store.get<MergeRequestRow>(`SELECT * FROM merge_requests WHERE source_bead_id = ? AND state IN ('claimed','merging','testing')`, bead.id);
    if (inFlight) throw conflict(`${bead.id} is being merged (${inFlight.id}); wait for the refinery`, 'id');
    store.transaction(() => {
      for (const mr of store.all<MergeRequestRow>(`SELECT * FROM merge_requests WHERE source_bead_id = ? AND state IN ('queued','blocked')`, bead.id)) {
        setMergeRequestState(store, mr.id, 'failed', { failure_type: 'cancelled', failure_tail: 'its bead was closed by the overseer' });
      }
      setBeadStatus(store, bead.id, { status: 'closed', reason: input.reason ?? 'closed by overseer', cause: 'closed by overseer' });
    });
    ctx.wake();
    return beadById(store, bead.id);
  },

  'bead.reopen': (ctx, _c, input) => {
    const { store } = ctx;
    const bead = requireBead(store, input.id);
    if (bead.status !== 'closed' && bead.status !== 'failed') throw conflict(`${bead.id} is ${bead.status}, not closed or failed`, 'id');
    store.transaction(() => {
      const labels = (JSON.parse(bead.labels) as string[]).filter((l) => l !== 'escalated');
      store.run('UPDATE beads SET dispatch_attempts = 0, last_dispatch_at = NULL, labels = ? WHERE id = ?', JSON.stringify(labels), bead.id);
      setBeadStatus(store, bead.id, { status: 'open', assignee: null, cause: 'reopened by overseer' });
    });
    ctx.wake();
    return beadById(store, bead.id);
  },

  'dep.add': (ctx, _c, input) => {
    const { store } = ctx;
    store.transaction(() => addDependency(store, input.bead, input.depends_on, input.type));
    ctx.wake();
    return beadById(store, input.bead);
  },

  'dep.remove': (ctx, _c, input) => {
    const { store } = ctx;
    requireBead(store, input.bead, 'bead');
    requireBead(store, input.depends_on, 'depends_on');
    if (input.type === 'tracks') throw invalid('remove convoy members with convoy.remove', 'type');
    store.transaction(() => {
      const r = store.run('DELETE FROM dependencies WHERE bead_id = ? AND depends_on_id = ? AND type = ?', input.bead, input.depends_on, input.type);
      if (r.changes === 0) throw notFound('dependency', `${input.bead} → ${input.depends_on}`, 'depends_on');
      store.event({ type: 'dependency.removed', bead: input.bead, payload: { depends_on: input.depends_on, type: input.type }, pending: true });
      touchBead(store, input.bead);
      touchBead(store, input.depends_on);
    });
    return beadById(store, input.bead);
  },

  'convoy.create': (ctx, _c, input) => {
    const { store } = ctx;
    input.beads.forEach((id, i) => requireConvoyMember(store, id, `beads.${i}`));
    return store.transaction(() => {
      const bead = createBead(store, {
        rig: null, type: 'convoy', title: input.title, body: '', priority: 2, labels: [], metadata: {},
        origin: { kind: 'user', id: OVERSEER },
      });
      store.run(`INSERT INTO convoys (id, status) VALUES (?, 'staged')`, bead.id);
      addConvoyMembers(store, bead.id, input.beads);
      store.event({ type: 'convoy.created', bead: bead.id, payload: { beads: input.beads } });
      store.touch('convoy', bead.id);
      return convoyView(store, bead.id)!;
    });
  },

  'convoy.add': (ctx, _c, input) => {
    const { store } = ctx;
    const convoy = requireConvoy(store, input.convoy, 'convoy');
    if (convoy.status === 'landed') throw conflict(`${convoy.id} has landed; create a new convoy`, 'convoy');
    input.beads.forEach((id, i) => requireConvoyMember(store, id, `beads.${i}`));
    store.transaction(() => addConvoyMembers(store, convoy.id, input.beads));
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
      for (const id of input.beads) {
        store.run('DELETE FROM convoy_members WHERE convoy_id = ? AND bead_id = ?', convoy.id, id);
        store.run(`DELETE FROM dependencies WHERE bead_id = ? AND depends_on_id = ? AND type = 'tracks'`, convoy.id, id);
        store.touch('bead', id);
      }
      renumberMembers(store, convoy.id);
      store.event({ type: 'convoy.members_removed', bead: convoy.id, payload: { beads: input.beads }, pending: true });
      store.touch('convoy', convoy.id);
    });
    return convoyView(store, convoy.id)!;
  },

  'convoy.move': (ctx, _c, input) => {
    const { store } = ctx;
    const convoy = requireConvoy(store, input.convoy, 'convoy');
    const order = store.all<{ bead_id: string }>('SELECT bead_id FROM convoy_members WHERE convoy_id = ? ORDER BY position', convoy.id).map((m) => m.bead_id);
    const from = order.indexOf(input.bead);
    if (from < 0) throw notFound('member', `${input.bead} in ${convoy.id}`, 'bead');
    order.splice(from, 1);
    order.splice(Math.min(input.position, order.length), 0, input.bead);
    store.transaction(() => {
      order.forEach((id, i) => store.run('UPDATE convoy_members SET position = ? WHERE convoy_id = ? AND bead_id = ?', i, convoy.id, id));
      store.event({ type: 'convoy.reordered', bead: convoy.id, payload: { bead: input.bead, position: input.position } });
      store.touch('convoy', convoy.id);
    });
    return convoyView(store, convoy.id)!;
  },

  'convoy.start': (ctx, _c, input) => {
    const { store } = ctx;
    const convoy = requireConvoy(store, input.convoy, 'convoy');
    if (convoy.status !== 'staged') throw conflict(`${convoy.id} is ${convoy.status}, not staged`, 'convoy');
    const view = convoyView(store, convoy.id)!;
    if (view.total === 0) throw conflict(`${convoy.id} has no beads; add some first`, 'convoy');
    const rigless = store.get<{ bead_id: string }>(
      `SELECT m.bead_id FROM convoy_members m JOIN beads b ON b.id = m.bead_id WHERE m.convoy_id = ? AND b.rig_id IS NULL`,
      convoy.id,
    );
    if (rigless) throw conflict(`${rigless.bead_id} has no rig; nothing could work it`, 'convoy');
    store.transaction(() => {
      store.run(`UPDATE convoys SET status = 'active', started_at = ? WHERE id = ?`, store.now(), convoy.id);
      store.event({ type: 'convoy.started', bead: convoy.id, payload: {}, pending: true });
      store.touch('convoy', convoy.id);
    });
    return convoyView(store, convoy.id)!;
  },

  'convoy.list': (ctx) =>
    ctx.store.all<{ id: string }>('SELECT c.id FROM convoys c JOIN beads b ON b.id = c.id ORDER BY b.created_at').map((c) => convoyView(ctx.store, c.id)!),

  'convoy.show': (ctx, _c, input) => {
    requireConvoy(ctx.store, input.id, 'id');
    return convoyView(ctx.store, input.id)!;
  },

  sling: (ctx, _c, input) => {
    const { store } = ctx;
    const bead = requireBead(store, input.bead, 'bead');
    if (bead.status !== 'open') throw conflict(`${bead.id} is ${bead.status}; only open beads can be slung`, 'bead');
    const target = input.target ?? bead.rig_id;
    if (!target) throw invalid(`${bead.id} has no rig; name one: town sling ${bead.id} RIG`, 'target');
    if (target.includes('/')) {
      const agent = getAgent(store, target);
      if (!agent || agent.role !== 'polecat') throw notFound('polecat', target, 'target');
      if (bead.rig_id && agent.rig_id !== bead.rig_id) throw conflict(`${target} works rig ${agent.rig_id}, not ${bead.rig_id}`, 'target');
    } else {
      if (!getRig(store, target)) throw notFound('rig', target, 'target');
      if (bead.rig_id && bead.rig_id !== target) throw conflict(`${bead.id} belongs to rig ${bead.rig_id}`, 'target');
    }
    const rig = target.includes('/') ? getAgent(store, target)!.rig_id : target;
    store.transaction(() => {
      store.run('UPDATE beads SET slung_to = ?, rig_id = coalesce(rig_id, ?), updated_at = ? WHERE id = ?', target, rig, store.now(), bead.id);
      store.event({ type: 'bead.slung', bead: bead.id, payload: { target }, pending: true });
      touchBead(store, bead.id);
    });
    return beadById(store, bead.id);
  },

  'agent.list': (ctx) => ctx.store.all<AgentRow>('SELECT * FROM agents ORDER BY rig_id, role, name').map((a) => agentView(ctx.store, a)),

  'agent.stop': async (ctx, _c, input) => {
    const { store } = ctx;
    const agent = requireAgent(store, input.agent);
    const stopped = await ctx.stopAgentSession(agent.id, 'user');
    if (!stopped && agent.hook_bead_id) {
      // No live session (it never started, or died unseen): release the hook directly.
      store.transaction(() => {
        const bead = agent.hook_bead_id!;
        releaseAgent(store, agent.id, 'idle', 'stopped by overseer');
        returnBeadAfterInterruption(store, bead, 'agent stopped by overseer');
      });
    }
    return agentView(store, getAgent(store, agent.id)!);
  },

  'agent.restart': async (ctx, caller, input) => {
    const { store } = ctx;
    const agent = requireAgent(store, input.agent);
    if (agent.role !== 'polecat') throw conflict(`${agent.id} is a ${agent.role}; only polecats restart on their bead`, 'agent');
    const bead = agent.hook_bead_id;
    if (!bead) throw conflict(`${agent.id} holds no bead; sling one to it instead`, 'agent');
    await handlers['agent.stop'](ctx, caller, { agent: agent.id });
    store.transaction(() => {
      // Back on the same polecat: the reconciler dispatches it there as soon as it is idle.
      store.run(`UPDATE beads SET slung_to = ?, last_dispatch_at = NULL, updated_at = ? WHERE id = ? AND status = 'open'`, agent.id, store.now(), bead);
      store.event({ type: 'agent.restart_requested', agent: agent.id, bead, payload: {}, pending: true });
      touchBead(store, bead);
    });
    return agentView(store, getAgent(store, agent.id)!);
  },

  'agent.input': (ctx, _c, input) => {
    requireAgent(ctx.store, input.agent);
    return { bytes: ctx.writeToAgent(input.agent, input.data) };
  },

  'session.list': (ctx, _c, input) =>
    (input.agent
      ? ctx.store.all<SessionRow>('SELECT * FROM sessions WHERE agent_id = ? ORDER BY started_at', input.agent)
      : ctx.store.all<SessionRow>('SELECT * FROM sessions ORDER BY started_at')
    ).map(sessionView),

  'mr.list': (ctx, _c, input) =>
    (input.rig
      ? ctx.store.all<MergeRequestRow>('SELECT * FROM merge_requests WHERE rig_id = ? ORDER BY created_at', input.rig)
      : ctx.store.all<MergeRequestRow>('SELECT * FROM merge_requests ORDER BY created_at')
    ).map(mergeRequestView),

  'agent.prime': async (ctx, caller) => {
    const agent = requireCallerAgent(ctx, caller);
    const bead = agent.hook_bead_id ? beadById(ctx.store, agent.hook_bead_id) : null;
    const prior_work = await priorWorkOf(ctx.store, agent);
    return { agent: agentView(ctx.store, agent), bead, prior_work, role_prompt: rolePrompt(agent, bead, prior_work) };
  },

  'agent.hook': async (ctx, caller) => {
    const agent = requireCallerAgent(ctx, caller);
    if (agent.hook_bead_id) ctx.store.run('UPDATE agents SET last_activity_at = ? WHERE id = ?', ctx.store.now(), agent.id);
    return { bead: agent.hook_bead_id ? beadById(ctx.store, agent.hook_bead_id) : null, prior_work: await priorWorkOf(ctx.store, agent) };
  },

  'agent.done': async (ctx, caller, input) => {
    const { store } = ctx;
    const agent = requireCallerAgent(ctx, caller);
    if (agent.hook_bead_id !== input.bead || agent.done_bead_id === input.bead) {
      // A late or stray callback: recorded, never applied to whatever the agent holds now.
      store.transaction(() =>
        store.event({ type: 'agent.done_ignored', agent: agent.id, bead: input.bead, payload: { hook: agent.hook_bead_id, status: input.status } }),
      );
      throw new ApiError('stale', `${agent.id} does not hold ${input.bead} (hook: ${agent.hook_bead_id ?? 'none'}); ignored`, 'bead');
    }
    const bead = requireBead(store, input.bead, 'bead');
    const rig = getRig(store, agent.rig_id!)!;
    const headSha = input.status === 'completed' && agent.branch ? await resolveRef({ dir: rig.path }, `refs/heads/${agent.branch}`) : null;
    const result = store.transaction(() => {
      const fresh = getAgent(store, agent.id)!;
      if (fresh.hook_bead_id !== input.bead || fresh.done_bead_id) throw new ApiError('stale', `${agent.id} no longer holds ${input.bead}`, 'bead');
      store.run('UPDATE agents SET done_bead_id = ?, done_at = ?, last_activity_at = ? WHERE id = ?', bead.id, store.now(), store.now(), agent.id);
      store.event({ type: 'agent.done', agent: agent.id, bead: bead.id, payload: { status: input.status, summary: input.summary ?? null } });
      store.touch('agent', agent.id);
      if (input.status === 'completed') {
        const mr = queueMergeRequest(store, {
          sourceBead: bead.id, rig: rig.id, branch: agent.branch!, target: rig.default_branch, headSha,
          agent: agent.id, title: bead.title, priority: bead.priority,
        });
        setBeadStatus(store, bead.id, { status: 'in_review', cause: `done by ${agent.id}` });
        return { accepted: true, merge_request: mergeRequestView(mr) };
      }
      if (input.status === 'escalated') {
        const labels = [...new Set([...(JSON.parse(bead.labels) as string[]), 'escalated'])];
        store.run('UPDATE beads SET labels = ? WHERE id = ?', JSON.stringify(labels), bead.id);
        sendMail(store, {
          from: agent.id, to: OVERSEER, subject: `${bead.id} escalated by ${agent.name}`, body: input.summary ?? '',
          priority: 'high', kind: 'escalation',
        });
      }
      returnBeadAfterInterruption(store, bead.id, `${input.status} by ${agent.id}`);
      return { accepted: true, merge_request: null };
    });
    ctx.wake();
    return result;
  },

  'mail.send': (ctx, caller, input) => {
    const { store } = ctx;
    if (input.to !== OVERSEER && !getAgent(store, input.to)) throw notFound('recipient', input.to, 'to');
    return store.transaction(() => {
      const id = sendMail(store, { from: callerId(caller), to: input.to, subject: input.subject, body: input.body, priority: input.priority, kind: 'notification' });
      return mailView(store.get<MailRow>('SELECT * FROM mail WHERE id = ?', id)!);
    });
  },

  'mail.inbox': (ctx, caller, input) =>
    ctx.store
      .all<MailRow>(
        `SELECT * FROM mail WHERE to_addr = ? ${input.unread ? 'AND read_at IS NULL' : ''} ORDER BY created_at DESC LIMIT 500`,
        callerId(caller),
      )
      .map(mailView),
};

/** What the agent's branch already holds beyond its target (an earlier run's commits). */
async function priorWorkOf(store: Store, agent: AgentRow): Promise<PriorWorkView | null> {
  const rig = agent.hook_bead_id && agent.branch && agent.rig_id ? getRig(store, agent.rig_id) : undefined;
  if (!rig || !agent.branch) return null;
  const work = await commitsAhead(rig.path, agent.branch, rig.default_branch).catch(() => null);
  return work && work.commits.length > 0 ? work : null;
}

function requireConvoyMember(store: Store, id: string, field: string) {
  const b = requireBead(store, id, field);
  if (b.type === 'convoy' || b.type === 'merge_request') throw invalid(`${id} is a ${b.type} and cannot be a convoy member`, field);
  return b;
}

function renumberMembers(store: Store, convoyId: string) {
  const ids = store.all<{ bead_id: string }>('SELECT bead_id FROM convoy_members WHERE convoy_id = ? ORDER BY position', convoyId);
  ids.forEach((m, i) => store.run('UPDATE convoy_members SET position = ? WHERE convoy_id = ? AND bead_id = ?', i, convoyId, m.bead_id));
}

function addConvoyMembers(store: Store, convoyId: string, beads: string[]) {
  let pos = store.get<{ p: number | null }>('SELECT max(position) AS p FROM convoy_members WHERE convoy_id = ?', convoyId)!.p ?? -1;
  for (const id of beads) {
    const r = store.run('INSERT OR IGNORE INTO convoy_members (convoy_id, bead_id, position) VALUES (?, ?, ?)', convoyId, id, pos + 1);
    if (r.changes > 0) {
      pos++;
      addDependency(store, convoyId, id, 'tracks');
      store.touch('bead', id);
    }
  }
  store.touch('convoy', convoyId);
}

