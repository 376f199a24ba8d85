// Rows as stored, and the views the API returns. Derived values (blocked_by, convoy
// progress) are queries here, never stored copies.
import type { EscalationRow } from './escalations';
import { agentModel, agentUsage, beadUsageOrNull, convoyUsage } from './usage';
import { beadBudgetPause, convoyBudgetPause } from './budgets';
import { isReady } from './ready';
import { budgetLevel } from '../../shared/budget';
import type {
  AgentEvidence,
  EscalationView,
  AgentRole,
  AgentStatus,
  AgentView,
  BeadStatus,
  BeadType,
  BeadView,
  ConvoyStatus,
  ConvoyView,
  EntityKind,
  PermissionMode,
  EntityMap,
  EventView,
  Gate,
  MailPriority,
  MailView,
  MergeRequestState,
  MergeRequestView,
  OriginKind,
  RigView,
  RuntimeName,
  SessionView,
  SettingView,
} from '../../shared/domain';
import { setupWatchOf } from '../../shared/setup-watch';
import type { Store } from './store';

export interface RigRow {
  id: string;
  name: string;
  path: string;
  default_branch: string;
  prefix: string;
  gates: string;
  setup_command: string | null;
  /** JSON list of globs; null: the default list (setup-watch.ts). */
  setup_watch: string | null;
  max_polecats: number;
  runtime: RuntimeName;
  command_template: string | null;
  permissions: PermissionMode;
  model: string | null;
  budget_usd: number | null;
  merge_mode: string;
  auto_dispatch: number;
  /** The git remote merged targets are pushed to; null: none. */
  remote: string | null;
  created_at: number;
}

export interface BeadRow {
  id: string;
  rig_id: string | null;
  type: BeadType;
  title: string;
  body: string;
  status: BeadStatus;
  priority: number;
  labels: string;
  assignee: string | null;
  parent_id: string | null;
  origin_kind: OriginKind;
  origin_id: string;
  slung_to: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  closed_at: number | null;
  close_reason: string | null;
  dispatch_attempts: number;
  last_dispatch_at: number | null;
  metadata: string;
  held_at: number | null;
  held_reason: string | null;
}

export interface AgentRow {
  id: string;
  role: AgentRole;
  rig_id: string | null;
  name: string;
  status: AgentStatus;
  hook_bead_id: string | null;
  runtime: string | null;
  worktree: string | null;
  branch: string | null;
  session_id: string | null;
  token_hash: string | null;
  done_bead_id: string | null;
  done_at: number | null;
  stop_reason: string | null;
  last_output_at: number | null;
  last_activity_at: number | null;
  restarts: number;
  created_at: number;
  updated_at: number;
  launch_id: string | null;
  status_since: number | null;
  /** JSON Evidence: why the agent is in its status (waiting, stalled, dead). */
  status_evidence: string | null;
  last_progress_at: number | null;
  nudged_at: number | null;
  health_escalated_at: number | null;
  run_respawns: number;
  run_crashes: number;
  restart_at: number | null;
  /** The runtime's conversation id and the bead it was on (resumed on a restart on that bead). */
  runtime_session: string | null;
  runtime_session_bead: string | null;
  /** JSON {event, at, detail}: the newest hook the runtime reported. */
  last_hook: string | null;
  turn_ended_at: number | null;
  finish_reminders: number;
  /** Collection of an idle polecat: 'checking' while its worktree is inspected, 'kept' when it held work. */
  gc_state: 'checking' | 'kept' | null;
  gc_at: number | null;
}

export interface SessionRow {
  id: string;
  agent_id: string;
  bead_id: string | null;
  command: string;
  cwd: string;
  runtime?: string | null;
  runtime_session?: string | null;
  pid: number | null;
  pgid: number | null;
  process_start: string | null;
  started_at: number;
  ended_at: number | null;
  exit_code: number | null;
  signal: number | null;
  bytes_out: number;
  log_path: string | null;
  launch_id: string | null;
  kind: 'agent' | 'gate';
}

export interface MergeRequestRow {
  id: string;
  source_bead_id: string;
  rig_id: string;
  branch: string;
  target: string;
  head_sha: string | null;
  state: MergeRequestState;
  claimed_at: number | null;
  claimed_by: string | null;
  lease_until: number | null;
  position: number | null;
  moved_at: number | null;
  attempts: number;
  failure_type: string | null;
  failure_tail: string | null;
  blocked_reason: string | null;
  retry_at: number | null;
  candidate_sha: string | null;
  merge_sha: string | null;
  backup_ref: string | null;
  /** 1 when a gate failed and passed on its rerun. */
  flaky: number;
  /** The bead resolving its latest conflict (kept after, for the record). */
  resolution_bead: string | null;
  created_at: number;
  updated_at: number;
}

export interface MailRow {
  id: string;
  from_addr: string;
  to_addr: string;
  subject: string;
  body: string;
  priority: MailPriority;
  kind: string;
  thread_id: string | null;
  created_at: number;
  read_at: number | null;
  acked_at: number | null;
}

export interface EventRow {
  seq: number;
  type: string;
  agent_id: string | null;
  bead_id: string | null;
  payload: string;
  created_at: number;
  processed_at: number | null;
  attempts: number;
}

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function rigView(r: RigRow): RigView {
  return {
    id: r.id,
    name: r.name,
    path: r.path,
    default_branch: r.default_branch,
    prefix: r.prefix,
    gates: JSON.parse(r.gates) as Gate[],
    setup_command: r.setup_command,
    setup_watch: setupWatchOf(r),
    max_polecats: r.max_polecats,
    runtime: r.runtime,
    command: r.command_template,
    permissions: r.permissions,
    model: r.model,
    budget_usd: r.budget_usd,
    auto_dispatch: r.auto_dispatch === 1,
    remote: r.remote ?? null,
    created_at: iso(r.created_at),
  };
}

export function beadMetadata(r: Pick<BeadRow, 'metadata'>): Record<string, unknown> {
  return JSON.parse(r.metadata) as Record<string, unknown>;
}

export function beadView(store: Store, r: BeadRow): BeadView {
  const deps = store.all<{ depends_on_id: string; status: BeadStatus }>(
    `SELECT d.depends_on_id, b.status FROM dependencies d JOIN beads b ON b.id = d.depends_on_id
     WHERE d.bead_id = ? AND d.type = 'blocks' ORDER BY d.created_at`,
    r.id,
  );
  const meta = beadMetadata(r);
  return {
    id: r.id,
    rig: r.rig_id,
    type: r.type,
    title: r.title,
    body: r.body,
    status: r.status,
    priority: r.priority,
    labels: JSON.parse(r.labels) as string[],
    assignee: r.assignee,
    scenario: typeof meta.scenario === 'string' ? meta.scenario : null,
    resolves: meta.resolves && typeof meta.resolves === 'object' ? (meta.resolves as BeadView['resolves']) : null,
    slung_to: r.slung_to,
    held_at: isoOrNull(r.held_at),
    held_reason: r.held_reason,
    depends_on: deps.map((d) => d.depends_on_id),
    blocked_by: deps.filter((d) => d.status !== 'closed').map((d) => d.depends_on_id),
    ready: isReady(store, r.id),
    origin: { kind: r.origin_kind, id: r.origin_id },
    dispatch_attempts: r.dispatch_attempts,
    close_reason: r.close_reason,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    started_at: isoOrNull(r.started_at),
    closed_at: isoOrNull(r.closed_at),
    usage: beadUsageOrNull(store, r.id),
    dispatch_paused: beadBudgetPause(store, r),
  };
}

/**
 * Members a failed merge sent back: in review behind a blocked MR (a conflict being resolved),
 * or open / in progress with a rework label, why from their latest MR.
 */
function convoyRework(store: Store, convoyId: string): ConvoyView['rework'] {
  return store
    .all<{ bead: string; status: BeadStatus; labels: string; state: string | null; blocked_reason: string | null; failure_type: string | null }>(
      `SELECT b.id AS bead, b.status, b.labels, m.state, m.blocked_reason, m.failure_type FROM convoy_members c JOIN beads b ON b.id = c.bead_id
       LEFT JOIN merge_requests m ON m.id = (SELECT id FROM merge_requests WHERE source_bead_id = b.id ORDER BY created_at DESC, id DESC LIMIT 1)
       WHERE c.convoy_id = ? AND b.status IN ('open','in_progress','in_review') ORDER BY c.position`,
      convoyId,
    )
    .flatMap((r) => {
      if (r.status === 'in_review') return r.state === 'blocked' && r.blocked_reason ? [{ bead: r.bead, why: r.blocked_reason }] : [];
      const label = (JSON.parse(r.labels) as string[]).find((l) => l === 'needs-fix' || l === 'setup' || l === 'needs-rebase');
      return label && r.state === 'failed' ? [{ bead: r.bead, why: `${label}: its merge failed at ${r.failure_type ?? 'a gate'}` }] : [];
    });
}

export function convoyView(store: Store, id: string): ConvoyView | null {
  const row = store.get<{ id: string; title: string; status: ConvoyStatus; merge_mode: 'direct' | 'integration'; budget_usd: number | null; created_at: number; started_at: number | null; landed_at: number | null }>(
    `SELECT c.id, b.title, c.status, c.merge_mode, c.budget_usd, b.created_at, c.started_at, c.landed_at FROM convoys c JOIN beads b ON b.id = c.id WHERE c.id = ?`,
    id,
  );
  if (!row) return null;
  const members = store.all<{ bead_id: string; status: BeadStatus }>(
    `SELECT m.bead_id, b.status FROM convoy_members m JOIN beads b ON b.id = m.bead_id WHERE m.convoy_id = ? ORDER BY m.position`,
    id,
  );
  const usage = convoyUsage(store, id);
  const spend = usage.cost_usd ?? 0;
  return {
    id: row.id,
    title: row.title,
    status: row.status,
    mode: row.merge_mode,
    stuck: row.status === 'active' && members.some((m) => m.status === 'failed'),
    total: members.length,
    closed: members.filter((m) => m.status === 'closed').length,
    beads: members.map((m) => m.bead_id),
    rework: convoyRework(store, id),
    budget_usd: row.budget_usd,
    spend_usd: spend,
    unpriced_tokens: usage.unpriced_tokens,
    budget_level: budgetLevel(spend, row.budget_usd),
    dispatch_paused: row.status === 'landed' ? null : convoyBudgetPause(store, id),
    created_at: iso(row.created_at),
    started_at: isoOrNull(row.started_at),
    landed_at: isoOrNull(row.landed_at),
  };
}

export function agentView(store: Store, r: AgentRow): AgentView {
  const session = r.session_id ? store.get<SessionRow>('SELECT * FROM sessions WHERE id = ?', r.session_id) : undefined;
  return {
    id: r.id,
    role: r.role,
    rig: r.rig_id,
    name: r.name,
    status: r.status,
    hook: r.hook_bead_id,
    pid: session && session.ended_at === null ? session.pid : null,
    session: r.session_id,
    worktree: r.worktree,
    branch: r.branch,
    restarts: r.restarts,
    last_output_at: isoOrNull(r.last_output_at),
    created_at: iso(r.created_at),
    status_since: isoOrNull(r.status_since),
    evidence: r.status_evidence ? (JSON.parse(r.status_evidence) as AgentEvidence) : null,
    last_progress_at: isoOrNull(r.last_progress_at),
    nudged_at: isoOrNull(r.nudged_at),
    runtime: session?.runtime ?? null,
    runtime_session: r.runtime_session ?? null,
    model: agentModel(store, r.id),
    last_hook: lastHookOf(r),
    usage: agentUsage(store, r.id),
  };
}

function lastHookOf(r: AgentRow): AgentView['last_hook'] {
  if (!r.last_hook) return null;
  const h = JSON.parse(r.last_hook) as { event: string; at: number; detail: string | null };
  return { event: h.event, at: iso(h.at), detail: h.detail };
}

export function mergeRequestView(r: MergeRequestRow): MergeRequestView {
  return {
    id: r.id,
    bead: r.source_bead_id,
    rig: r.rig_id,
    branch: r.branch,
    target: r.target,
    state: r.state,
    attempts: r.attempts,
    failure: r.failure_type ? { type: r.failure_type, tail: r.failure_tail ?? '' } : null,
    blocked_reason: r.blocked_reason,
    head_sha: r.head_sha,
    merge_sha: r.merge_sha,
    flaky: r.flaky === 1,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    claimed_by: r.claimed_by,
    lease_until: isoOrNull(r.lease_until),
    moved_to: r.state === 'queued' ? r.position : null,
  };
}

export interface SettingRow {
  key: string;
  value: string;
}

export const settingView = (r: SettingRow): SettingView => ({ id: r.key, value: JSON.parse(r.value) });

export function mailView(r: MailRow): MailView {
  return {
    id: r.id,
    from: r.from_addr,
    to: r.to_addr,
    subject: r.subject,
    body: r.body,
    priority: r.priority,
    kind: r.kind,
    created_at: iso(r.created_at),
    read_at: isoOrNull(r.read_at),
    acked_at: isoOrNull(r.acked_at),
  };
}

export function eventView(r: EventRow): EventView {
  return {
    seq: r.seq,
    type: r.type,
    agent: r.agent_id,
    bead: r.bead_id,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    created_at: iso(r.created_at),
  };
}

export function sessionView(r: SessionRow): SessionView {
  return {
    id: r.id,
    agent: r.agent_id,
    bead: r.bead_id,
    pid: r.pid,
    started_at: iso(r.started_at),
    ended_at: isoOrNull(r.ended_at),
    exit_code: r.exit_code,
    signal: r.signal,
    bytes_out: r.bytes_out,
  };
}

export function escalationView(r: EscalationRow): EscalationView {
  return {
    id: r.id,
    severity: r.severity,
    source: r.source,
    agent: r.agent_id,
    bead: r.bead_id,
    reason: r.reason,
    evidence: JSON.parse(r.evidence) as AgentEvidence,
    body: r.body,
    created_at: iso(r.created_at),
    last_raised_at: iso(r.last_raised_at),
    raised_count: r.raised_count,
    acked_at: isoOrNull(r.acked_at),
    acked_by: r.acked_by,
  };
}

// Single-entity lookups used by patches and handlers.
export const getRig = (s: Store, id: string) => s.get<RigRow>('SELECT * FROM rigs WHERE id = ?', id);
export const getBead = (s: Store, id: string) => s.get<BeadRow>('SELECT * FROM beads WHERE id = ?', id);
export const getAgent = (s: Store, id: string) => s.get<AgentRow>('SELECT * FROM agents WHERE id = ?', id);
export const getMergeRequest = (s: Store, id: string) => s.get<MergeRequestRow>('SELECT * FROM merge_requests WHERE id = ?', id);
export const getSession = (s: Store, id: string) => s.get<SessionRow>('SELECT * FROM sessions WHERE id = ?', id);

export function entityView<K extends EntityKind>(store: Store, kind: K, id: string): EntityMap[K] | null {
  switch (kind) {
    case 'rig': {
      const r = getRig(store, id);
      return (r ? rigView(r) : null) as EntityMap[K] | null;
    }
    case 'bead': {
      const r = getBead(store, id);
      return (r ? beadView(store, r) : null) as EntityMap[K] | null;
    }
    case 'convoy':
      return convoyView(store, id) as EntityMap[K] | null;
    case 'agent': {
      const r = getAgent(store, id);
      return (r ? agentView(store, r) : null) as EntityMap[K] | null;
    }
    case 'merge_request': {
      const r = getMergeRequest(store, id);
      return (r ? mergeRequestView(r) : null) as EntityMap[K] | null;
    }
    case 'mail': {
      const r = store.get<MailRow>('SELECT * FROM mail WHERE id = ?', id);
      return (r ? mailView(r) : null) as EntityMap[K] | null;
    }
    case 'escalation': {
      const r = store.get<EscalationRow>('SELECT * FROM escalations WHERE id = ?', id);
      return (r ? escalationView(r) : null) as EntityMap[K] | null;
    }
    case 'setting': {
      const r = store.get<SettingRow>('SELECT * FROM settings WHERE key = ?', id);
      return (r ? settingView(r) : null) as EntityMap[K] | null;
    }
  }
  return null;
}
