// Derived views of the town, computed from the normalized store (never stored).
import type { AgentView, BeadView, ConvoyView, MergeRequestView, TownStatus } from '../../../shared/domain';
import type { BucketMemo, Entities } from './feed';
import { byId, SortedRows } from './sorted-rows';

export const COLUMNS = [
  { id: 'backlog', title: 'Backlog' },
  { id: 'ready', title: 'Ready' },
  { id: 'in_progress', title: 'In progress' },
  { id: 'in_review', title: 'In review' },
  { id: 'done', title: 'Done' },
  { id: 'failed', title: 'Failed' },
] as const;
export type ColumnId = (typeof COLUMNS)[number]['id'];

const WORK_TYPES = new Set(['task', 'bug', 'feature', 'chore', 'epic']);
export const isWorkBead = (b: BeadView) => WORK_TYPES.has(b.type);

/** Board column: Ready is the engine's ready rule (store/ready.ts), never recomputed here. */
export function columnOf(b: BeadView): ColumnId {
  switch (b.status) {
    case 'open':
      return b.ready ? 'ready' : 'backlog';
    case 'in_progress':
      return 'in_progress';
    case 'in_review':
      return 'in_review';
    case 'closed':
      return 'done';
    case 'failed':
      return 'failed';
  }
}

export const LIVE_AGENT_STATUSES = new Set(['starting', 'working', 'waiting', 'stalled']);
export const isLive = (a: AgentView) => a.session !== null && LIVE_AGENT_STATUSES.has(a.status);

export function convoysOf(entities: Entities, beadId: string): ConvoyView[] {
  return entities.convoy.list().filter((c) => c.beads.includes(beadId));
}

export function mergeRequestOf(entities: Entities, beadId: string): MergeRequestView | null {
  let best: MergeRequestView | null = null;
  for (const mr of entities.merge_request.list()) {
    if (mr.bead === beadId && (!best || mr.created_at > best.created_at)) best = mr;
  }
  return best;
}

export function agentOf(entities: Entities, bead: BeadView): AgentView | null {
  const assigned = bead.assignee ? entities.agent.get(bead.assignee) : undefined;
  if (assigned) return assigned;
  return entities.agent.list().find((a) => a.hook === bead.id) ?? null;
}

/** What the overseer can do about a problem from its row. */
export type ProblemAction = 'allow' | 'deny' | 'answer' | 'nudge' | 'restart' | 'reopen' | 'ack' | 'open-agent';

export interface Problem {
  key: string;
  severity: 'high' | 'medium';
  title: string;
  detail: string;
  /** Why the town thinks so, in a sentence (the agent's or the escalation's evidence). */
  evidence?: string;
  /** Where clicking takes the overseer. */
  target: { bead?: string; agent?: string; view?: string; escalation?: string };
  actions: ProblemAction[];
}

// Selectors run on every store change; the problem list is recomputed only when its inputs change.
let lastProblems: { agent: unknown; bead: unknown; mr: unknown; escalation: unknown; status: unknown; out: Problem[] } | null = null;

/** Problems first: agents waiting for input, dead or stalled agents, failed beads and MRs, violations. */
export function problemsOf(entities: Entities, status: TownStatus | null): Problem[] {
  const l = lastProblems;
  if (l && l.agent === entities.agent && l.bead === entities.bead && l.mr === entities.merge_request && l.escalation === entities.escalation && l.status === status) return l.out;
  const out = computeProblems(entities, status);
  lastProblems = { agent: entities.agent, bead: entities.bead, mr: entities.merge_request, escalation: entities.escalation, status, out };
  return out;
}

const failedBeadProblems: BucketMemo<BeadView, Problem> = new WeakMap();

function computeProblems(entities: Entities, status: TownStatus | null): Problem[] {
  const out: Problem[] = [];
  for (const a of entities.agent.list()) {
    const on = a.hook ? `on ${a.hook}` : a.id;
    const evidence = a.evidence?.summary;
    const ask = a.status === 'waiting' ? a.evidence?.permission : undefined;
    // A permission ask shows the exact call and is answered in place; the terminal stays one click away.
    if (ask) out.push({ key: `wait:${a.id}`, severity: 'high', title: `${a.name} asks permission to use ${ask.tool}`, detail: on, evidence: ask.command ?? ask.tool, target: { agent: a.id }, actions: ['allow', 'deny', 'open-agent'] });
    else if (a.status === 'waiting') out.push({ key: `wait:${a.id}`, severity: 'high', title: `${a.name} is waiting for input`, detail: on, evidence, target: { agent: a.id }, actions: ['answer'] });
    else if (a.status === 'stalled') out.push({ key: `stall:${a.id}`, severity: 'high', title: `${a.name} has stalled`, detail: on, evidence, target: { agent: a.id }, actions: ['nudge', 'restart'] });
    else if (a.status === 'dead') out.push({ key: `dead:${a.id}`, severity: 'medium', title: `${a.name} crashed`, detail: a.id, evidence, target: { agent: a.id }, actions: a.hook ? ['restart'] : [] });
  }
  for (const e of entities.escalation.list()) {
    if (e.acked_at !== null) continue;
    const who = [e.agent ?? e.source, e.bead].filter(Boolean).join(' on ');
    out.push({
      key: `esc:${e.id}`, severity: e.severity === 'high' || e.severity === 'critical' ? 'high' : 'medium',
      title: `Escalation (${e.severity}): ${e.reason}`, detail: who + (e.raised_count > 1 ? ` · raised ${e.raised_count}×` : ''),
      evidence: e.evidence.summary, target: { agent: e.agent ?? undefined, bead: e.bead ?? undefined, escalation: e.id },
      actions: e.agent ? ['ack', 'open-agent'] : ['ack'],
    });
  }
  out.push(...entities.bead.select(failedBeadProblems, (b): Problem | undefined => (b.status === 'failed' && isWorkBead(b) ? { key: `bead:${b.id}`, severity: 'medium', title: `${b.id} failed`, detail: b.close_reason ?? b.title, target: { bead: b.id }, actions: ['reopen'] } : undefined)));
  // A failed merge whose bead was submitted again (a rework) is history, not a problem.
  const latest = new Map<string, string>();
  for (const mr of entities.merge_request.list()) {
    const seen = latest.get(mr.bead);
    if (!seen || seen < mr.created_at) latest.set(mr.bead, mr.created_at);
  }
  for (const mr of entities.merge_request.list()) {
    if (mr.state === 'failed' && mr.failure?.type !== 'cancelled' && latest.get(mr.bead) === mr.created_at) {
      out.push({ key: `mr:${mr.id}`, severity: 'medium', title: `Merge of ${mr.bead} failed`, detail: mr.failure ? `${mr.failure.type}: ${lastLine(mr.failure.tail)}` : mr.branch, target: { bead: mr.bead }, actions: [] });
    } else if (mr.state === 'blocked') {
      out.push({ key: `mr:${mr.id}`, severity: 'medium', title: `Merge of ${mr.bead} is blocked`, detail: mr.blocked_reason ?? '', target: { bead: mr.bead }, actions: [] });
    }
  }
  for (const v of status?.reconciler.violations ?? []) {
    out.push({ key: `inv:${v}`, severity: 'high', title: 'Invariant violated', detail: v, target: {}, actions: [] });
  }
  return out.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'high' ? -1 : 1));
}

const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';

export interface BoardFilter {
  rig: string;
  label: string;
  assignee: string;
  priority: string;
  text: string;
}
export const EMPTY_FILTER: BoardFilter = { rig: '', label: '', assignee: '', priority: '', text: '' };

export function matchesFilter(b: BeadView, f: BoardFilter): boolean {
  if (f.rig && b.rig !== f.rig) return false;
  if (f.label && !b.labels.includes(f.label)) return false;
  if (f.assignee && (b.assignee ?? '') !== f.assignee) return false;
  if (f.priority !== '' && b.priority !== Number(f.priority)) return false;
  if (f.text) {
    const t = f.text.toLowerCase();
    if (!b.title.toLowerCase().includes(t) && !b.id.includes(t) && !b.body.toLowerCase().includes(t)) return false;
  }
  return true;
}

const byPriority = (a: BeadView, b: BeadView) => a.priority - b.priority || (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : byId(a, b));
const recency = (b: BeadView) => b.closed_at ?? b.updated_at;
const byRecent = (a: BeadView, b: BeadView) => (recency(a) < recency(b) ? 1 : recency(a) > recency(b) ? -1 : byId(a, b));

export type BoardColumns = Record<ColumnId, SortedRows<BeadView>>;

/**
 * The Board's columns under one filter (priority then age; Done and Failed newest first).
 * Each column keeps its sorted rows and follows patches by moving only the changed beads.
 */
export function boardColumns(f: BoardFilter): BoardColumns {
  const column = (id: ColumnId) => new SortedRows<BeadView>((b) => isWorkBead(b) && columnOf(b) === id && matchesFilter(b, f), id === 'done' || id === 'failed' ? byRecent : byPriority);
  return { backlog: column('backlog'), ready: column('ready'), in_progress: column('in_progress'), in_review: column('in_review'), done: column('done'), failed: column('failed') };
}

/** Open work beads not in a live convoy, matching `search`, for the planner (priority then age). */
export function plannerBacklog(inAnyConvoy: ReadonlySet<string>, search: string): SortedRows<BeadView> {
  const t = search.toLowerCase();
  return new SortedRows<BeadView>((b) => isWorkBead(b) && b.status === 'open' && !inAnyConvoy.has(b.id) && (!t || b.title.toLowerCase().includes(t) || b.id.includes(t)), byPriority);
}

const labelsOfBuckets: BucketMemo<BeadView, string> = new WeakMap();
let lastLabels: { table: unknown; out: string[] } | null = null;
/** Every label in use, sorted; a patch rescans one bucket. */
export function labelsOf(entities: Entities): string[] {
  if (lastLabels?.table === entities.bead) return lastLabels.out;
  const all = new Set<string>();
  for (const l of entities.bead.selectMany(labelsOfBuckets, (b) => b.labels)) all.add(l);
  const out = [...all].sort();
  const same = lastLabels && lastLabels.out.length === out.length && lastLabels.out.every((l, i) => l === out[i]);
  lastLabels = { table: entities.bead, out: same ? lastLabels!.out : out };
  return lastLabels.out;
}
