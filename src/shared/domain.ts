// The vocabulary of a town (see shared/design/domain.md), shared by every process.
// Views are what the API returns: snake_case JSON, timestamps as ISO strings.

export const BEAD_TYPES = ['task', 'bug', 'feature', 'chore', 'epic', 'convoy', 'merge_request', 'message', 'escalation'] as const;
export type BeadType = (typeof BEAD_TYPES)[number];
/** The beads anyone creates directly; the other types stand for a convoy, a merge request or mail. */
export const WORK_BEAD_TYPES = ['task', 'bug', 'feature', 'chore', 'epic'] as const satisfies readonly BeadType[];

export const BEAD_STATUSES = ['open', 'in_progress', 'in_review', 'closed', 'failed'] as const;
export type BeadStatus = (typeof BEAD_STATUSES)[number];
export const TERMINAL_BEAD_STATUSES: readonly BeadStatus[] = ['closed', 'failed'];

export const AGENT_STATUSES = ['idle', 'starting', 'working', 'waiting', 'stalled', 'dead'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];
export const AGENT_ROLES = ['polecat', 'crew', 'mayor', 'refinery'] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];

export const MR_STATES = ['queued', 'claimed', 'merging', 'testing', 'merged', 'blocked', 'failed'] as const;
export type MergeRequestState = (typeof MR_STATES)[number];
export const ACTIVE_MR_STATES: readonly MergeRequestState[] = ['claimed', 'merging', 'testing'];

export const CONVOY_STATUSES = ['staged', 'active', 'landed'] as const;
export type ConvoyStatus = (typeof CONVOY_STATUSES)[number];

export const DEPENDENCY_TYPES = [
  'blocks', 'parent-child', 'tracks', 'related', 'discovered-from', 'relates-to', 'duplicates', 'supersedes', 'replies-to',
] as const;
export type DependencyType = (typeof DEPENDENCY_TYPES)[number];
/**
 * Only `blocks` holds a bead back (and, through `parent-child`, its descendants); the other
 * kinds are links a person follows (bd's related, discovered-from, duplicates, ...).
 */
export const NON_BLOCKING_DEPENDENCY_TYPES = ['related', 'discovered-from', 'relates-to', 'duplicates', 'supersedes', 'replies-to'] as const satisfies readonly DependencyType[];

export const RUNTIMES = ['scripted', 'shell', 'claude', 'codex'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];
/** Tokens and spend: a session's running totals, or their sum over an agent, bead, convoy or town. */
export interface UsageTotals {
  input_tokens: number;
  output_tokens: number;
  cache_creation_tokens: number;
  cache_read_tokens: number;
  /**
   * Dollars as the runtimes reported them: the sum over the sessions that carried a cost;
   * null when there is usage and none of it has a price (Codex reports tokens, not cost).
   */
  cost_usd: number | null;
  /** Some usage here has no price: cost_usd (when not null) counts only the priced part. */
  cost_partial: boolean;
  /** Tokens of the sessions without a price. */
  unpriced_tokens: number;
}

/** Spend grouped one way (`town costs --by`), against the budgets it counts toward. */
export interface CostReport {
  by: 'agent' | 'bead' | 'convoy' | 'rig';
  town: UsageTotals & { budget_usd: number | null };
  rows: Array<UsageTotals & { key: string; label: string; budget_usd: number | null }>;
}

/**
 * What a runtime's hooks report, in Overseer's words: its session started, a prompt was
 * submitted, a tool runs or ran, it asks permission, it sits idle at its prompt, it says
 * something else needs a human, its turn ended, its session ended, it hit a usage limit or
 * an authentication failure, or only its usage changed.
 */
export const RUNTIME_EVENTS = [
  'session_start', 'prompt', 'tool', 'tool_done', 'permission', 'idle_prompt', 'notification', 'turn_end', 'session_end', 'limit', 'auth_failed', 'usage',
] as const;
export type RuntimeEvent = (typeof RUNTIME_EVENTS)[number];

/** The real agent CLIs Overseer launches itself (the others are a stand-in and a command template). */
export const AGENT_CLIS = ['claude', 'codex'] as const;
export type AgentCli = (typeof AGENT_CLIS)[number];
/**
 * How much an agent may do without asking: `ask` (its permission prompts reach the overseer),
 * `auto` (file edits accepted, commands asked), `bypass` (nothing asked).
 */
export const PERMISSION_MODES = ['ask', 'auto', 'bypass'] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

export const SCENARIOS = ['ok', 'crash', 'needs-input', 'flood', 'stall', 'exit-without-done', 'late-done'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const DONE_STATUSES = ['completed', 'escalated', 'deferred'] as const;
export type DoneStatus = (typeof DONE_STATUSES)[number];

export const MAIL_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type MailPriority = (typeof MAIL_PRIORITIES)[number];

export const ORIGIN_KINDS = ['user', 'agent', 'system', 'import'] as const;
export type OriginKind = (typeof ORIGIN_KINDS)[number];

/** The overseer (the human) as an address for mail and escalations. */
export const OVERSEER = 'overseer';

export interface Gate {
  name: string;
  command: string;
  timeout_s: number;
}

export interface RigView {
  id: string;
  name: string;
  path: string;
  default_branch: string;
  prefix: string;
  gates: Gate[];
  setup_command: string | null;
  /** Files whose change between candidates re-runs the setup in the refinery's worktree. */
  setup_watch: string[];
  max_polecats: number;
  runtime: RuntimeName;
  command: string | null;
  permissions: PermissionMode;
  /** The model the runtime is asked for; null: the runtime's own default. */
  model: string | null;
  /** Spend limit for the rig's agents in USD; null: none. */
  budget_usd: number | null;
  auto_dispatch: boolean;
  /** The git remote the refinery pushes merged targets to; null: no push. */
  remote: string | null;
  created_at: string;
}

export interface RigDetail {
  rig: RigView;
  polecats: AgentView[];
  /** Branches of the repository: the default branch and every polecat branch. */
  branches: { name: string; sha: string; agent: string | null }[];
}

export interface RigCheck {
  path: string;
  ok: boolean;
  problem: string | null;
  /** The field the problem is about (path or default_branch). */
  field: string | null;
  branches: string[];
  current_branch: string | null;
}

export interface BeadView {
  id: string;
  rig: string | null;
  type: BeadType;
  title: string;
  body: string;
  status: BeadStatus;
  priority: number;
  labels: string[];
  assignee: string | null;
  scenario: string | null;
  /** A resolution bead: the merge request it unblocks, the bead it resolves, and the conflicting files. */
  resolves: { mr: string; bead: string; target: string; files: string[] } | null;
  slung_to: string | null;
  /** Set while the overseer holds the bead out of dispatch (stop and hold, `town hold`). */
  held_at: string | null;
  held_reason: string | null;
  blocked_by: string[];
  depends_on: string[];
  /** The ready rule (store/ready.ts), computed by the engine: the Board's Ready column shows exactly these. */
  ready: boolean;
  origin: { kind: OriginKind; id: string };
  dispatch_attempts: number;
  close_reason: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  closed_at: string | null;
  /** Tokens and spend over all its sessions; null while no runtime has reported any. */
  usage: UsageTotals | null;
  /** Why this open bead waits for a budget (its convoy's, its rig's or the town's), or null. */
  dispatch_paused: string | null;
}

import type { BudgetLevel } from './budget';

export interface ConvoyView {
  id: string;
  title: string;
  status: ConvoyStatus;
  /** integration: members merge into convoy/<id>; one landing MR brings it to the default branch. */
  mode: 'direct' | 'integration';
  stuck: boolean;
  total: number;
  closed: number;
  beads: string[];
  /** Members back in rework after a failed merge, and why ("blocked on sa-x1: resolve merge conflict in shared.md"). */
  rework: { bead: string; why: string }[];
  /** Spend limit in US dollars, or null for none. */
  budget_usd: number | null;
  /** What its members (and their conflict resolutions) have cost so far, as far as it is priced. */
  spend_usd: number;
  /** Tokens its members used without a price (Codex): spend_usd and the budget cannot see them. */
  unpriced_tokens: number;
  /** Where spend stands against the budget: warning from 80 %, reached at 100 %. */
  budget_level: BudgetLevel;
  /** Why its beads do not dispatch for budget reasons ("paused: budget reached"), or null. */
  dispatch_paused: string | null;
  created_at: string;
  started_at: string | null;
  landed_at: string | null;
}

export interface AgentView {
  id: string;
  role: AgentRole;
  rig: string | null;
  name: string;
  status: AgentStatus;
  hook: string | null;
  pid: number | null;
  session: string | null;
  worktree: string | null;
  branch: string | null;
  restarts: number;
  last_output_at: string | null;
  created_at: string;
  /** Since when the agent is in its status, and why (for waiting, stalled, dead: the evidence). */
  status_since: string | null;
  evidence: AgentEvidence | null;
  last_progress_at: string | null;
  nudged_at: string | null;
  /** A real agent CLI's conversation (resumed after a restart on the same bead), and the CLI. */
  runtime: string | null;
  runtime_session: string | null;
  /** The model its runtime last reported; null: none reported (the rig's setting or the runtime's default). */
  model: string | null;
  /** The newest hook its runtime reported, and when. */
  last_hook: { event: string; at: string; detail: string | null } | null;
  /** Tokens and spend of all its sessions. */
  usage: UsageTotals;
}

export interface AgentEvidence {
  summary: string;
  last_lines?: string[];
  process?: { pid: number; name: string } | null;
  source?: string;
  /** The tool call a runtime asks permission for (answerable with agent.answer_permission). */
  permission?: PermissionAsk;
}

/** The overseer's answer to a runtime's permission ask. */
export const PERMISSION_DECISIONS = ['allow', 'deny'] as const;
export type PermissionDecision = (typeof PERMISSION_DECISIONS)[number];

export interface PermissionAsk {
  tool: string;
  command: string | null;
}

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface EscalationView {
  id: string;
  severity: Severity;
  source: string;
  agent: string | null;
  bead: string | null;
  reason: string;
  evidence: AgentEvidence;
  body: string;
  created_at: string;
  last_raised_at: string;
  raised_count: number;
  acked_at: string | null;
  acked_by: string | null;
}

export interface MergeRequestView {
  id: string;
  bead: string;
  rig: string;
  branch: string;
  target: string;
  state: MergeRequestState;
  attempts: number;
  failure: { type: string; tail: string } | null;
  blocked_reason: string | null;
  head_sha: string | null;
  merge_sha: string | null;
  /** A gate failed and passed on its single rerun. */
  flaky: boolean;
  created_at: string;
  updated_at: string;
  /** The claim's lease: who holds it and until when (renewed by gate progress). */
  claimed_by?: string | null;
  lease_until?: string | null;
  /** A place the overseer moved it to (1 = next), while queued. */
  moved_to?: number | null;
}

/** One row of a rig's merge queue as the refinery will take it. */
export interface MergeQueueEntry extends MergeRequestView {
  /** 1 = next; null when not queued (running, blocked, done). */
  position: number | null;
  /** Since it entered its current state, in ms. */
  waiting_ms: number;
  /** The gate running now: its name, its place among the rig's gates, since when. */
  gate: { name: string; index: number; of: number; since: string } | null;
}

/** `town mq show`: the entry with its full failure tail and its history. */
export interface MergeQueueDetail extends MergeQueueEntry {
  title: string;
  events: { seq: number; type: string; at: string; text: string }[];
}

export interface MailView {
  id: string;
  from: string;
  to: string;
  subject: string;
  body: string;
  priority: MailPriority;
  kind: string;
  created_at: string;
  read_at: string | null;
  acked_at: string | null;
}

export interface EventView {
  seq: number;
  type: string;
  agent: string | null;
  bead: string | null;
  payload: Record<string, unknown>;
  created_at: string;
}

export interface SessionView {
  id: string;
  agent: string;
  bead: string | null;
  pid: number | null;
  started_at: string;
  ended_at: string | null;
  exit_code: number | null;
  signal: number | null;
  bytes_out: number;
}

export type EntityKind = 'rig' | 'bead' | 'convoy' | 'agent' | 'merge_request' | 'mail' | 'escalation' | 'setting';

export interface EntityMap {
  rig: RigView;
  bead: BeadView;
  convoy: ConvoyView;
  agent: AgentView;
  merge_request: MergeRequestView;
  mail: MailView;
  escalation: EscalationView;
  setting: SettingView;
}

/** One change to one entity, in commit order. `value: null` means it was deleted. */
export interface Patch {
  revision: number;
  kind: EntityKind;
  id: string;
  value: EntityMap[EntityKind] | null;
}

/** E-stop: dispatch paused and every session's process group stopped until the thaw. Kept as the `town_frozen` setting. */
export interface FrozenView {
  reason: string;
  since: string;
}

/** What an e-stop or thaw did: each live session signalled, and those whose group did not get it, with why. */
export interface FreezeReport {
  frozen: FrozenView | null;
  sessions: number;
  failed: { session: string; agent: string; error: string }[];
}

export interface Snapshot {
  revision: number;
  /** Set while the town is frozen (e-stop); the UI also follows the `town_frozen` setting's patches. */
  frozen: FrozenView | null;
  rigs: RigView[];
  beads: BeadView[];
  convoys: ConvoyView[];
  agents: AgentView[];
  merge_requests: MergeRequestView[];
  mail: MailView[];
  escalations: EscalationView[];
  settings: SettingView[];
}

export interface TownStatus {
  town: string;
  pid: number;
  revision: number;
  dispatch_paused: boolean;
  frozen: FrozenView | null;
  /** Why dispatch is paused (who paused it, with the breaker's evidence), or null when it runs. */
  dispatch_pause: { by: string; reason: string; evidence: { summary: string } | null; since: number } | null;
  counts: Record<string, number>;
  agents: { total: number; working: number };
  memory: { rss_mb: number; heap_mb: number };
  reconciler: { ticks: number; last_tick_ms: number; violations: string[] };
}

/** Commits already on the agent's branch that its target lacks: an earlier run's work to continue from. */
export interface PriorWorkView {
  branch: string;
  target: string;
  head: string;
  commits: { sha: string; subject: string }[];
}

export interface HookView {
  bead: BeadView | null;
  prior_work: PriorWorkView | null;
}

export interface PrimeView extends HookView {
  agent: AgentView;
  role_prompt: string;
}

// Town configuration (`town config`, the Settings view).

/**
 * One stored town setting as the change feed carries it: the raw key (`config.health.nudge_after`,
 * `dispatch_paused`) and value. Clients read settings through `town.config`; a patch of this
 * kind tells them to read again.
 */
export interface SettingView {
  id: string;
  value: unknown;
}

export const CONFIG_KINDS = ['count', 'duration', 'durations', 'choice', 'text', 'path'] as const;
export type ConfigKind = (typeof CONFIG_KINDS)[number];
export type ConfigValue = number | number[] | string;

export interface ConfigSettingView {
  /** The canonical key, `health.nudge_after`. */
  key: string;
  /** Canonical value: durations in milliseconds, lists as arrays. */
  value: ConfigValue;
  /** As a person writes it: `15m`, `0s,2m,5m`, `5`, `bwrap`. */
  display: string;
  default: ConfigValue;
  default_display: string;
  kind: ConfigKind;
  /** The values a `choice` setting takes. */
  choices?: string[];
  about: string;
  /** Older keys that still name this setting (in their old units). */
  aliases: string[];
}

export interface TownConfigView {
  /** Every setting, or only the one asked for with `get`. */
  settings: ConfigSettingView[];
  /** What a `set` wrote: each key with its display value before and after. */
  changed: { key: string; was: string; now: string }[];
  dispatch_paused: boolean;
  town_prefix: string;
}

/** What `town import` did with a bd JSONL file. */
export interface ImportSummary {
  file: string;
  rig: string;
  /** Lines read. */
  lines: number;
  /** Beads new to the town, and beads already here that the file updated. */
  imported: number;
  updated: number;
  /** Records not imported, by reason: `tombstone`, or the bd type (`agent`, `molecule`, ...). */
  skipped: Record<string, number>;
  /** Dependencies kept (both ends in the town), and those dropped by reason. */
  dependencies: number;
  dependencies_dropped: Record<string, number>;
  convoys: number;
  /** bd `message` records taken in as mail: new, updated, and how many name a recipient not in this town. */
  mail: { imported: number; updated: number; to_absent: number };
  /** The first dependencies dropped because they would close a cycle of waiting beads (where, which, the cycle), and how many in all. */
  cycles: { line: number; dependency: string; cycle: string }[];
  cycle_count: number;
  /** The first lines that failed to parse (1-based), and how many failed in all. */
  bad_lines: { line: number; error: string }[];
  bad_line_count: number;
}
