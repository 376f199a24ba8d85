// bd's JSONL (steveyegge/beads `bd export`, Gas Town's .beads/issues.jsonl): one issue per
// line. Pure mapping both ways between a bd record and what Overseer keeps; no I/O here.
import { BEAD_ID_PATTERN } from '../../shared/api';
import type { DependencyType } from '../../shared/domain';
import { messageLine, type ImportedMail } from './bd-mail';

/** bd's issue types that are work here; every other type (agent, role, message, ...) is skipped. */
export const BD_WORK_TYPES = ['task', 'bug', 'feature', 'chore', 'epic'] as const;
type WorkType = (typeof BD_WORK_TYPES)[number];

/** bd dependency kinds kept, and what each becomes (blocked-by says the same edge as blocks). */
const DEPENDENCY_KINDS: Record<string, DependencyType> = {
  blocks: 'blocks',
  'blocked-by': 'blocks',
  'parent-child': 'parent-child',
  tracks: 'tracks',
  related: 'related',
  'relates-to': 'relates-to',
  'discovered-from': 'discovered-from',
  duplicates: 'duplicates',
  supersedes: 'supersedes',
  'replies-to': 'replies-to',
};

/** Gas Town keeps roles and agents as task beads labelled `gt:role` / `gt:agent`: not work either. */
const NON_WORK_LABELS: Record<string, string> = { 'gt:role': 'role', 'gt:agent': 'agent', 'gt:rig': 'rig' };

export interface ImportedBead {
  id: string;
  type: WorkType | 'convoy';
  title: string;
  body: string;
  /** Every live bd status is open here; the original stays as a `bd:<status>` label. */
  status: 'open' | 'closed';
  priority: number;
  labels: string[];
  created_at: number | null;
  updated_at: number | null;
  closed_at: number | null;
  close_reason: string | null;
  /** What bd knew that Overseer has no column for (assignee, owner, its metadata). */
  bd: Record<string, unknown>;
}

export interface ImportedLink {
  bead: string;
  dependsOn: string;
  type: DependencyType;
  created_at: number | null;
}

export type BdLine =
  | { kind: 'bead'; bead: ImportedBead; links: ImportedLink[]; droppedLinks: string[] }
  | { kind: 'mail'; mail: ImportedMail }
  | { kind: 'skip'; reason: string }
  | { kind: 'blank' }
  | { kind: 'bad'; error: string };

export type Json = Record<string, unknown>;
export const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function time(v: unknown): number | null {
  if (typeof v !== 'string' || v === '') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

/** description, then design / acceptance criteria / notes as sections. */
function bodyOf(r: Json): string {
  const parts = [str(r.description).trim()];
  for (const [field, heading] of [['design', 'Design'], ['acceptance_criteria', 'Acceptance criteria'], ['notes', 'Notes']] as const) {
    const text = str(r[field]).trim();
    if (text) parts.push(`## ${heading}\n\n${text}`);
  }
  return parts.filter(Boolean).join('\n\n');
}

function priorityOf(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 4 ? v : 2;
}

export function parseBdLine(text: string): BdLine {
  if (text.trim() === '') return { kind: 'blank' };
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch (err) {
    // Where, never what: the parser's message quotes the line, and the file is the caller's
    // choice (a summary must not become a way to read other files).
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    return { kind: 'bad', error: `not JSON${at ? ` (at character ${at})` : /end of JSON/.test((err as Error).message) ? ' (the line ends too early)' : ''}` };
  }
  if (!r || typeof r !== 'object' || Array.isArray(r)) return { kind: 'bad', error: 'not a JSON object' };
  const rec = r as Json;
  if (rec._type !== undefined && rec._type !== 'issue') return { kind: 'skip', reason: str(rec._type) || 'unknown record' };
  const id = str(rec.id);
  if (!id) return { kind: 'bad', error: 'no id' };
  const status = str(rec.status) || 'open';
  if (status === 'tombstone' || rec.deleted_at) return { kind: 'skip', reason: 'tombstone' };
  const type = str(rec.issue_type) || 'task';
  const labels = Array.isArray(rec.labels) ? rec.labels.filter((l): l is string => typeof l === 'string' && l !== '') : [];
  const gtKind = labels.map((l) => NON_WORK_LABELS[l]).find(Boolean);
  if (type === 'message') return messageLine(rec, id, status, labels);
  if (type !== 'convoy' && !(BD_WORK_TYPES as readonly string[]).includes(type)) return { kind: 'skip', reason: type };
  if (gtKind) return { kind: 'skip', reason: gtKind };
  if (!BEAD_ID_PATTERN.test(id) || id.length > 64 || id.endsWith('.lock')) return { kind: 'bad', error: `id "${id.slice(0, 80)}" is not a bead id Overseer can keep` };
  const title = str(rec.title).trim();
  if (!title) return { kind: 'bad', error: `${id} has no title` };

  const closed = status === 'closed';
  if (!closed && status !== 'open') labels.push(`bd:${status}`);
  const bd: Json = {};
  for (const k of ['assignee', 'owner', 'created_by', 'external_ref'] as const) if (str(rec[k])) bd[k] = rec[k];
  if (rec.metadata && typeof rec.metadata === 'object') bd.metadata = rec.metadata;

  const links: ImportedLink[] = [];
  const droppedLinks: string[] = [];
  for (const d of Array.isArray(rec.dependencies) ? (rec.dependencies as Json[]) : []) {
    if (!d || typeof d !== 'object') continue;
    const kind = DEPENDENCY_KINDS[str(d.type)];
    const from = str(d.issue_id) || id;
    const to = str(d.depends_on_id);
    if (!kind || !to || to === from) {
      droppedLinks.push(str(d.type) || 'untyped');
      continue;
    }
    // A convoy's tracks are its members; on a work bead, tracks means nothing here.
    if (kind === 'tracks' && type !== 'convoy') {
      droppedLinks.push('tracks');
      continue;
    }
    links.push({ bead: from, dependsOn: to, type: kind, created_at: time(d.created_at) });
  }

  return {
    kind: 'bead',
    bead: {
      id,
      type: type as ImportedBead['type'],
      title: title.slice(0, 500),
      body: bodyOf(rec).slice(0, 100_000),
      status: closed ? 'closed' : 'open',
      priority: priorityOf(rec.priority),
      labels: [...new Set(labels)],
      created_at: time(rec.created_at),
      updated_at: time(rec.updated_at),
      closed_at: closed ? time(rec.closed_at) : null,
      close_reason: closed ? str(rec.close_reason) || null : null,
      bd,
    },
    links,
    droppedLinks,
  };
}

export interface ExportedBead {
  id: string;
  type: string;
  title: string;
  body: string;
  status: string;
  priority: number;
  labels: string[];
  created_at: number;
  updated_at: number;
  closed_at: number | null;
  close_reason: string | null;
  metadata: Record<string, unknown>;
}

export const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());

/** One bd record for a bead and its outgoing dependencies (a convoy's members as `tracks`). */
export function toBdRecord(b: ExportedBead, deps: { depends_on_id: string; type: string; created_at: number }[]): string {
  const bdLabel = b.labels.find((l) => l.startsWith('bd:'));
  // bd has no in_review or failed: a bead in review is still in progress there, a failed one blocked.
  const status =
    b.status === 'closed' ? 'closed'
    : b.status === 'open' ? (bdLabel?.slice(3) ?? 'open')
    : b.status === 'failed' ? 'blocked'
    : 'in_progress';
  const bd = (b.metadata.bd ?? {}) as Json;
  const labels = b.labels.filter((l) => !l.startsWith('bd:'));
  const record: Json = {
    id: b.id,
    title: b.title,
    ...(b.body ? { description: b.body } : {}),
    status,
    priority: b.priority,
    issue_type: b.type,
    ...(str(bd.assignee) ? { assignee: bd.assignee } : {}),
    ...(str(bd.owner) ? { owner: bd.owner } : {}),
    created_at: iso(b.created_at),
    ...(str(bd.created_by) ? { created_by: bd.created_by } : {}),
    updated_at: iso(b.updated_at),
    ...(b.status === 'closed' ? { closed_at: iso(b.closed_at ?? b.updated_at), ...(b.close_reason ? { close_reason: b.close_reason } : {}) } : {}),
    ...(str(bd.external_ref) ? { external_ref: bd.external_ref } : {}),
    ...(bd.metadata && typeof bd.metadata === 'object' ? { metadata: bd.metadata } : {}),
    ...(labels.length ? { labels } : {}),
    ...(deps.length
      ? { dependencies: deps.map((d) => ({ issue_id: b.id, depends_on_id: d.depends_on_id, type: d.type, created_at: iso(d.created_at) })) }
      : {}),
  };
  return JSON.stringify(record);
}
