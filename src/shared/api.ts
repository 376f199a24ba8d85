// The typed contract: every engine API call is declared here once, with its input
// schema, who may call it, and its output type. Dispatchers, transports and clients
// are all derived from this table.
import { z } from 'zod';
import {
  BEAD_TYPES,
  BEAD_STATUSES,
  DEPENDENCY_TYPES,
  DONE_STATUSES,
  AGENT_CLIS,
  MAIL_PRIORITIES,
  PERMISSION_MODES,
  PERMISSION_DECISIONS,
  RUNTIME_EVENTS,
  RUNTIMES,
  SEVERITIES,
  type EscalationView,
  type AgentView,
  type BeadView,
  type ConvoyView,
  type CostReport,
  type EventView,
  type FreezeReport,
  type HookView,
  type ImportSummary,
  type MailView,
  type MergeQueueDetail,
  type MergeQueueEntry,
  type MergeRequestView,
  type PrimeView,
  type RigCheck,
  type RigDetail,
  type RigView,
  type SessionView,
  type Snapshot,
  type TownConfigView,
  type TownStatus,
} from './domain';
import type { DoctorReport } from './doctor';

/** Who may call a method: the overseer's token, an agent's session token, or either. */
export type Access = 'overseer' | 'agent' | 'any';

// Imported bd ids keep their shape (`bd-2oo.1`, `hq-deacon-role`): dot- or dash-separated parts,
// never `..` nor a trailing `.lock`, so an id stays a valid piece of a git branch name.
export const BEAD_ID_PATTERN = /^[a-z][a-z0-9]{0,15}-[a-z0-9]+(?:[.-][a-z0-9]+)*$/;
const beadId = z.string().max(64).regex(BEAD_ID_PATTERN, 'expected a bead id like ov-3f9a').refine((id) => !id.endsWith('.lock'), 'a bead id cannot end in .lock');
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, . _ - (max 64)');
const agentId = z.string().min(1).max(200);
const priority = z.number().int().min(0).max(4);
const label = z.string().min(1).max(64);
const gate = z.object({
  name: name,
  command: z.string().min(1).max(4000),
  timeout_s: z.number().int().min(1).max(86_400).default(600),
}).strict();

/** A path glob inside the repository: `package-lock.json`, `requirements*.txt`, `services/NAME/go.sum`. */
const watchGlob = z.string().trim().min(1).max(200)
  .regex(/^[^\0\n]+$/, 'one line, no NUL')
  .refine((g) => !g.split('/').includes('..'), 'a path inside the repository (no ..)');

/** A git remote's name as `git remote` lists it (never an option or a URL). */
const remoteName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'a remote name as `git remote` lists it');

/** A model name as the runtime takes it (`claude-sonnet-4-5`, `gpt-5-codex`): passed as one argument, never through a shell. */
const modelName = z
  .string({ error: 'model is a name, like claude-sonnet-4-5' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:\/@-]{0,99}$/, 'model names use letters, digits and . _ : / @ - (at most 100)');
const tokens = z.number().int().min(0).max(1e12);
/** A spend limit in US dollars. */
// Messages read as sentences about the field: the CLI prints "budget_usd: <message>", the UI
// shows the message beside the field it names.
const budgetUsd = z
  .number({ error: 'budget is a number of dollars, like 25 or 2.50' })
  .positive('budget must be more than $0')
  // Spend is counted in cents: a smaller budget would be reached the moment it is set.
  .min(0.01, 'budget must be at least $0.01')
  .max(1_000_000, 'budget can be at most $1,000,000');
const runtimeName = z.enum(RUNTIMES, { error: `runtime must be one of ${RUNTIMES.join(', ')}` });
const permissionMode = z.enum(PERMISSION_MODES, { error: `permission mode must be one of ${PERMISSION_MODES.join(', ')}` });

const mailId = z.string().regex(/^mail-[a-f0-9]{4,32}$/, 'expected a mail id like mail-3f9a0c1d2e');
const escalationId = z.string().regex(/^esc-[a-f0-9]{4,32}$/, 'expected an escalation id like esc-3f9a0c1d2e');

const empty = z.object({}).strict();

function method<I extends z.ZodType>(access: Access, input: I) {
  return { access, input };
}

export const api = {
  'town.status': method('overseer', empty),
  'town.snapshot': method('overseer', empty),
  'town.doctor': method('overseer', empty),
  'town.config': method(
    'overseer',
    z.object({
      /** Keys (canonical or alias) to values: `15m`, `0,2m,5m`, `5`, `bwrap`; the old JSON forms too. */
      set: z.record(z.string(), z.unknown()).optional(),
      /** One setting by key or alias: the answer lists only it. */
      get: z.string().min(1).max(200).optional(),
    }).strict(),
  ),
  /** E-stop: dispatch paused and every live session (agents and gates) SIGSTOPped, until `town.thaw`. */
  'town.estop': method('overseer', z.object({ reason: z.string().trim().min(1).max(2000).default('e-stop by overseer') }).strict()),
  'town.thaw': method('overseer', empty),
  'events.list': method(
    'overseer',
    z.object({
      after: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(10_000).default(200),
      bead: beadId.optional(),
      /** The newest `limit` events (still in seq order) instead of the oldest after `after`. */
      latest: z.boolean().default(false),
    }).strict(),
  ),

  'rig.add': method(
    'overseer',
    z.object({
      name,
      path: z.string().min(1).max(4096),
      default_branch: z.string().min(1).max(255).optional(),
      prefix: z.string().regex(/^[a-z][a-z0-9]{0,7}$/, 'lowercase letters and digits, starting with a letter (max 8)').optional(),
      test: z.string().min(1).max(4000).optional(),
      gates: z.array(gate).max(16).optional(),
      setup: z.string().min(1).max(4000).optional(),
      /** Files whose change re-runs setup in the refinery's worktree; default: the usual lockfiles. */
      setup_watch: z.array(watchGlob).max(32).optional(),
      max_polecats: z.number().int().min(1).max(64).default(3),
      runtime: runtimeName.default('scripted'),
      command: z.string().min(1).max(4000).optional(),
      permissions: permissionMode.default('bypass'),
      model: modelName.optional(),
      budget_usd: budgetUsd.optional(),
      auto_dispatch: z.boolean().default(false),
      /** A git remote of the repository; the refinery pushes each merged target to it. */
      remote: remoteName.optional(),
    }).strict(),
  ),
  'rig.list': method('overseer', empty),
  'rig.show': method('overseer', z.object({ name }).strict()),
  'rig.update': method(
    'overseer',
    z.object({
      name,
      default_branch: z.string().min(1).max(255).optional(),
      gates: z.array(gate).max(16).optional(),
      setup: z.string().max(4000).nullable().optional(),
      /** null: back to the default list. */
      setup_watch: z.array(watchGlob).max(32).nullable().optional(),
      max_polecats: z.number().int().min(1).max(64).optional(),
      runtime: runtimeName.optional(),
      command: z.string().max(4000).nullable().optional(),
      permissions: permissionMode.optional(),
      /** null: the runtime's default model. */
      model: modelName.nullable().optional(),
      /** null: no limit. */
      budget_usd: budgetUsd.nullable().optional(),
      auto_dispatch: z.boolean().optional(),
      /** null: stop pushing. */
      remote: remoteName.nullable().optional(),
    }).strict(),
  ),
  /** Checks a folder before it becomes a rig: is it a git repository, which branches it has. */
  'rig.check': method(
    'overseer',
    z.object({ path: z.string().min(1).max(4096), default_branch: z.string().min(1).max(255).optional() }).strict(),
  ),

  'bead.create': method(
    'any',
    z.object({
      rig: name.optional(),
      title: z.string().trim().min(1, 'title is required').max(500),
      body: z.string().max(100_000).default(''),
      type: z.enum(BEAD_TYPES).default('task'),
      priority: priority.default(2),
      labels: z.array(label).max(32).default([]),
      scenario: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/).optional(),
      /** Runs this bead on another runtime than its rig's. */
      runtime: runtimeName.optional(),
      after: z.array(beadId).max(64).default([]),
      parent: beadId.optional(),
    }).strict(),
  ),
  'bead.list': method(
    'any',
    z.object({
      rig: name.optional(),
      status: z.enum(BEAD_STATUSES).optional(),
      label: label.optional(),
      assignee: agentId.optional(),
      type: z.enum(BEAD_TYPES).optional(),
      /** Only beads the ready rule lets work start on (store/ready.ts), most urgent first. */
      ready: z.boolean().default(false),
      /** Every bead, convoy and merge-request beads too (by default those two are left out). */
      all: z.boolean().default(false),
    }).strict(),
  ),
  /**
   * Imports a bd JSONL file (Gas Town's `.beads/issues.jsonl`, `bd export`) that the engine
   * reads from this machine: the CLI runs beside it and passes the absolute path.
   */
  'bead.import': method(
    'overseer',
    z.object({ path: z.string().min(1).max(4096), rig: name.optional(), strict: z.boolean().default(false) }).strict(),
  ),
  /**
   * The window's import of a dropped file, which the engine cannot open by path: begin, then
   * the lines in order a chunk at a time (the window shows how far it has read), then finish.
   */
  'bead.import_begin': method('overseer', z.object({ name: z.string().min(1).max(255), rig: name.optional() }).strict()),
  'bead.import_lines': method(
    'overseer',
    z.object({ import: z.string().uuid(), lines: z.array(z.string().max(900_000)).max(5_000) }).strict(),
  ),
  'bead.import_finish': method('overseer', z.object({ import: z.string().uuid() }).strict()),
  /** One page of the town's beads as bd JSONL lines, after the id `after`; `next` pages on. */
  'bead.export': method(
    'overseer',
    z.object({ rig: name.optional(), after: z.string().max(64).optional(), limit: z.number().int().min(1).max(5_000).default(1_000) }).strict(),
  ),
  'bead.show': method('any', z.object({ id: beadId }).strict()),
  'bead.update': method(
    'any',
    z.object({
      id: beadId,
      title: z.string().trim().min(1).max(500).optional(),
      body: z.string().max(100_000).optional(),
      priority: priority.optional(),
      add_labels: z.array(label).max(32).optional(),
      remove_labels: z.array(label).max(32).optional(),
      scenario: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/).optional(),
    }).strict(),
  ),
  'bead.close': method('overseer', z.object({ id: beadId, reason: z.string().max(2000).optional() }).strict()),
  'bead.reopen': method('overseer', z.object({ id: beadId }).strict()),
  /** Holds an open bead out of dispatch until `bead.release`. */
  'bead.hold': method('overseer', z.object({ id: beadId, reason: z.string().trim().min(1).max(2000).default('held by overseer') }).strict()),
  'bead.release': method('overseer', z.object({ id: beadId }).strict()),

  'dep.add': method(
    'overseer',
    z.object({ bead: beadId, depends_on: beadId, type: z.enum(DEPENDENCY_TYPES).default('blocks') }).strict(),
  ),
  'dep.remove': method(
    'overseer',
    z.object({ bead: beadId, depends_on: beadId, type: z.enum(DEPENDENCY_TYPES).default('blocks') }).strict(),
  ),

  'convoy.create': method(
    'overseer',
    z.object({
      title: z.string().trim().min(1).max(500),
      beads: z.array(beadId).max(1000).default([]),
      /** integration: members merge into convoy/<id>, which lands on the default branch through one landing MR. */
      mode: z.enum(['direct', 'integration']).default('direct'),
      /** Spend limit: at 80 % a warning, at 100 % dispatch of its beads pauses. */
      budget_usd: budgetUsd.optional(),
    }).strict(),
  ),
  /** Changes a convoy's budget (null: none); a raise above its spend resumes its dispatch. */
  'convoy.update': method('overseer', z.object({ convoy: beadId, budget_usd: budgetUsd.nullable() }).strict()),
  'convoy.add': method('overseer', z.object({ convoy: beadId, beads: z.array(beadId).min(1).max(1000) }).strict()),
  'convoy.remove': method('overseer', z.object({ convoy: beadId, beads: z.array(beadId).min(1).max(1000) }).strict()),
  /** Moves one member to a new position (0-based) in the convoy's order. */
  'convoy.move': method('overseer', z.object({ convoy: beadId, bead: beadId, position: z.number().int().min(0).max(100_000) }).strict()),
  'convoy.start': method('overseer', z.object({ convoy: beadId }).strict()),
  'convoy.list': method('overseer', empty),
  'convoy.show': method('overseer', z.object({ id: beadId }).strict()),

  sling: method('overseer', z.object({ bead: beadId, target: z.string().min(1).max(200).optional() }).strict()),

  'agent.list': method('overseer', empty),
  /** Stops the agent (verified). With hold (the default) its bead stays open but out of dispatch until released. */
  'agent.stop': method('overseer', z.object({ agent: agentId, hold: z.boolean().default(true) }).strict()),
  /**
   * Stops the agent's session (verified) and starts it again on the same bead, resuming its
   * runtime's conversation there; `fresh` starts a new conversation instead.
   */
  'agent.restart': method('overseer', z.object({ agent: agentId, fresh: z.boolean().default(false) }).strict()),
  'agent.input': method('overseer', z.object({ agent: agentId, data: z.string().min(1).max(65_536) }).strict()),
  /**
   * Answers the permission the agent's runtime waits on (its dialog, via keys). Refused with
   * nothing typed when it no longer waits on one, or (given `command`) on that one.
   */
  'agent.answer_permission': method(
    'overseer',
    z.object({
      agent: agentId,
      decision: z.enum(PERMISSION_DECISIONS),
      /** Told to the agent with a deny: what to do instead. */
      reason: z.string().trim().min(1).max(1000).optional(),
      /** The command the overseer saw: a different pending ask is not answered. */
      command: z.string().max(4000).nullable().optional(),
      /** The tool the overseer saw (for tools without a command: WebFetch, MCP tools). */
      tool: z.string().min(1).max(200).optional(),
    }).strict(),
  ),
  'session.list': method('overseer', z.object({ agent: agentId.optional() }).strict()),
  'mr.list': method('overseer', z.object({ rig: name.optional() }).strict()),
  'mr.show': method('overseer', z.object({ mr: beadId }).strict()),
  /** Put a queued MR at a place in its rig's queue: 1 = next. */
  'mr.move': method('overseer', z.object({ mr: beadId, position: z.number().int().min(1).max(100_000) }).strict()),
  /** A failed or blocked MR back to the queue (its bead back in review). */
  'mr.retry': method('overseer', z.object({ mr: beadId }).strict()),
  /** Fail an MR as `rejected` and reopen its bead with the reason. */
  'mr.reject': method('overseer', z.object({ mr: beadId, reason: z.string().trim().min(1).max(2000) }).strict()),

  'agent.prime': method('agent', empty),
  'agent.hook': method('agent', empty),
  'agent.done': method(
    'agent',
    z.object({
      bead: beadId,
      status: z.enum(DONE_STATUSES).default('completed'),
      summary: z.string().max(10_000).optional(),
    }).strict(),
  ),
  /**
   * A runtime's own hooks report attention (Claude Code's Notification hook, a wrapper
   * script): `waiting` when the agent asks the overseer, `working` when it goes on.
   */
  'agent.signal': method(
    'agent',
    z.object({ state: z.enum(['waiting', 'working']), message: z.string().trim().max(500).optional() }).strict(),
  ),
  /**
   * What a real agent CLI's hooks report (runtime-hook.cjs forwards them): its turn, tools,
   * permission asks, limits and usage. The caller's own session only.
   */
  'agent.runtime_event': method(
    'agent',
    z.object({
      runtime: z.enum(AGENT_CLIS),
      event: z.enum(RUNTIME_EVENTS),
      /** The runtime's own session (conversation) id, resumed after a restart. */
      session: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'a runtime session id').optional(),
      message: z.string().max(2000).optional(),
      tool: z.string().max(200).optional(),
      command: z.string().max(4000).optional(),
      model: modelName.optional(),
      /** Running totals of the runtime's process. */
      usage: z.object({
        input_tokens: tokens, output_tokens: tokens, cache_creation_tokens: tokens, cache_read_tokens: tokens,
        /** null: the runtime reports no cost (Codex; a Claude turn before its status line). */
        cost_usd: z.number().min(0).max(1_000_000).nullable(),
      }).strict().optional(),
    }).strict(),
  ),
  /** Tokens and spend: the town's, grouped one way, with the budgets they count against. */
  'costs.report': method('overseer', z.object({ by: z.enum(['agent', 'bead', 'convoy', 'rig']).default('agent') }).strict()),
  'mail.send': method(
    'any',
    z.object({
      to: z.string().min(1).max(200),
      subject: z.string().trim().min(1).max(500),
      body: z.string().max(100_000).default(''),
      priority: z.enum(MAIL_PRIORITIES).default('normal'),
    }).strict(),
  ),
  'mail.inbox': method('any', z.object({ unread: z.boolean().default(false) }).strict()),
  /** Prints one message to its recipient (or the overseer) and marks it read. */
  'mail.read': method('any', z.object({ id: mailId }).strict()),
  'mail.ack': method('any', z.object({ id: mailId }).strict()),

  /** An agent raises its own (source = the caller); the overseer may raise one too. Deduplicated. */
  'escalation.raise': method(
    'any',
    z.object({
      severity: z.enum(SEVERITIES).default('medium'),
      reason: z.string().trim().min(1, 'reason is required').max(200),
      bead: beadId.optional(),
      body: z.string().trim().min(1, 'say what is wrong').max(10_000),
    }).strict(),
  ),
  /** Unacked ones by default; `all` includes the acked. */
  'escalation.list': method('overseer', z.object({ all: z.boolean().default(false) }).strict()),
  'escalation.ack': method('overseer', z.object({ id: escalationId }).strict()),
} as const;

export type ApiMethod = keyof typeof api;
export type ApiInput<M extends ApiMethod> = z.input<(typeof api)[M]['input']>;
export type ApiParsedInput<M extends ApiMethod> = z.output<(typeof api)[M]['input']>;

export interface ApiOutputs {
  'town.status': TownStatus;
  'town.snapshot': Snapshot;
  'town.doctor': DoctorReport;
  'town.config': TownConfigView;
  'town.estop': FreezeReport;
  'town.thaw': FreezeReport;
  'events.list': EventView[];
  'rig.add': RigView;
  'rig.list': RigView[];
  'rig.show': RigDetail;
  'rig.update': RigView;
  'rig.check': RigCheck;
  'bead.create': BeadView;
  'bead.list': BeadView[];
  'bead.import': ImportSummary;
  /** A page of bd JSONL; `beads` and `mail` count its lines of each. */
  'bead.export': { lines: string[]; next: string | null; beads: number; mail: number };
  'bead.import_begin': { import: string; rig: string };
  'bead.import_lines': { lines: number };
  'bead.import_finish': ImportSummary;
  'bead.show': BeadView;
  'bead.update': BeadView;
  'bead.close': BeadView;
  'bead.reopen': BeadView;
  'bead.hold': BeadView;
  'bead.release': BeadView;
  'dep.add': BeadView;
  'dep.remove': BeadView;
  'convoy.create': ConvoyView;
  'convoy.update': ConvoyView;
  'convoy.add': ConvoyView;
  'convoy.remove': ConvoyView;
  'convoy.move': ConvoyView;
  'convoy.start': ConvoyView;
  'convoy.list': ConvoyView[];
  'convoy.show': ConvoyView;
  sling: BeadView;
  'agent.list': AgentView[];
  'agent.stop': AgentView;
  'agent.restart': AgentView;
  'agent.input': { bytes: number };
  'agent.answer_permission': AgentView;
  'session.list': SessionView[];
  'mr.list': MergeQueueEntry[];
  'mr.show': MergeQueueDetail;
  'mr.move': MergeQueueEntry[];
  'mr.retry': MergeQueueEntry;
  'mr.reject': MergeQueueEntry;
  'agent.prime': PrimeView;
  'agent.hook': HookView;
  'agent.done': { accepted: boolean; merge_request: MergeRequestView | null };
  'agent.signal': { recorded: boolean };
  'agent.runtime_event': { recorded: boolean };
  'costs.report': CostReport;
  'mail.send': MailView;
  'mail.inbox': MailView[];
  'mail.read': MailView;
  'mail.ack': MailView;
  /** `deduplicated`: the same (agent, bead, reason) is still open; `escalation` is that one. */
  'escalation.raise': { escalation: EscalationView; deduplicated: boolean };
  'escalation.list': EscalationView[];
  'escalation.ack': EscalationView;
}
export type ApiOutput<M extends ApiMethod> = ApiOutputs[M];

/** Long-lived streams (control socket only): after the opening request the connection carries frames. */
export const streams = {
  'session.attach': method('overseer', z.object({ agent: agentId, cols: z.number().int().min(2).max(1000).optional(), rows: z.number().int().min(2).max(1000).optional() }).strict()),
  'feed.watch': method('overseer', z.object({ after: z.number().int().min(0).optional() }).strict()),
} as const;
export type StreamMethod = keyof typeof streams;

export function isApiMethod(name: string): name is ApiMethod {
  return Object.prototype.hasOwnProperty.call(api, name);
}
export function isStreamMethod(name: string): name is StreamMethod {
  return Object.prototype.hasOwnProperty.call(streams, name);
}

/** The caller as the engine sees it, derived from the token. */
export type Caller = { kind: 'overseer' } | { kind: 'agent'; agentId: string };

// The client side lives apart from the schemas: an agent's `town hook` must not load zod.
export { typedClient, type Transport, type TypedClient } from './typed-client';
