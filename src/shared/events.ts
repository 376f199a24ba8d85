// Every event a town records, as one typed union: the type and its payload's schema.
// Writers are checked against it when they append; the reconciler parses each pending
// event once, at the drain, and handlers receive the typed payload.
import { z } from 'zod';
import { AGENT_STATUSES, BEAD_STATUSES, CONVOY_STATUSES, MR_STATES } from './domain';

const id = z.string();
const maybe = <T extends z.ZodType>(t: T) => t.nullable().optional();
/** The start attempt a report belongs to; a report from an earlier launch is recorded and ignored. */
const launch = maybe(z.string());

const beadStatusChange = z.object({ from: z.enum(BEAD_STATUSES), cause: z.string(), reason: z.string().optional() });
const mrStateChange = z.object({ mr: id, from: z.enum(MR_STATES), failure: z.string().optional(), reason: z.string().optional() });
const evidence = z.object({
  /** One sentence a person reads: "no output for 12 s, node is reading the terminal, last line …". */
  summary: z.string(),
  last_lines: z.array(z.string()).optional(),
  process: maybe(z.object({ pid: z.number(), name: z.string() })),
  source: z.string().optional(),
  /** The tool call a runtime asks permission for: what Allow and Deny answer. */
  permission: z.object({ tool: z.string(), command: z.string().nullable() }).optional(),
});

export const EVENT_PAYLOADS = {
  // Reported by side effects (pending: the reconciler applies them).
  'session.spawned': z.object({
    session: id, launch, pid: maybe(z.number()), pgid: maybe(z.number()), process_start: maybe(z.string()),
    command: z.string().default(''), cwd: z.string().default(''), log_path: maybe(z.string()),
  }),
  /** `interrupted`: cut off by an engine restart, not a failure of the rig (the breaker skips it). */
  'session.spawn_failed': z.object({ error: z.string(), launch, interrupted: z.boolean().optional() }),
  'session.exited': z.object({
    session: id, launch, exit_code: maybe(z.number()), signal: maybe(z.number()), reason: z.string().default('exited'),
    bytes_out: z.number().default(0), tail: z.string().optional(),
  }),
  /** A process group that survived a kill (stop, exit clean-up, or startup recovery). */
  'session.kill_failed': z.object({ session: id, pgid: z.number(), error: z.string(), during: z.enum(['stop', 'exit', 'recovery']), kind: z.enum(['agent', 'gate']).optional() }),
  'session.activity': z.object({ session: id }),
  /**
   * Progress: the session's screen changed in a way that is not a spinner (default), the
   * worktree's git state changed, or the agent's runtime said it goes on (`town signal working`).
   */
  'session.progress': z.object({
    session: id, last_lines: z.array(z.string()).optional(),
    /** What changed, and a line saying how. */
    source: z.enum(['screen', 'git', 'runtime']).optional(), summary: z.string().optional(),
  }),
  /** The session's agent needs a human: it sits at a terminal read, or rang a notification. */
  'session.waiting': z.object({ session: id, evidence }),
  /** Someone typed into the session (a viewer or an answer from the UI). */
  'session.input': z.object({ session: id }),
  'work.recovered': z.object({
    launch, branch: z.string(), head_sha: maybe(z.string()), target: maybe(z.string()),
    commits: z.array(z.object({ sha: z.string(), subject: z.string() })).default([]),
  }),
  /** An idle polecat's worktree was inspected for collection: removed only when clean. */
  'polecat.gc_checked': z.object({
    worktree: maybe(z.string()),
    outcome: z.enum(['removed', 'missing', 'dirty', 'unmerged', 'error']),
    files: z.array(z.string()).default([]),
    commits: z.array(z.object({ sha: z.string(), subject: z.string() })).default([]),
    error: z.string().optional(),
  }),
  'refinery.candidate': z.object({ mr: id, candidate_sha: z.string(), base_sha: maybe(z.string()), reason: z.string().optional() }),
  'refinery.testing': z.object({ mr: id }),
  /** The rig's setup ran in the refinery's worktree before the gates; why (first run, files changed). */
  'refinery.setup': z.object({ mr: id, reason: z.string(), ok: z.boolean() }),
  'refinery.merged': z.object({ mr: id, merge_sha: maybe(z.string()), backup_ref: maybe(z.string()), already: z.boolean().optional() }),
  /** `files`: for a conflict, the conflicting paths (from the merge itself, never parsed from output). */
  'refinery.failed': z.object({ mr: id, failure_type: z.string(), tail: z.string().default(''), exit_code: maybe(z.number()), files: z.array(z.string()).optional() }),
  /** A gate failed and passed on its single immediate rerun: merged, and recorded as flaky. */
  'refinery.flaky': z.object({ mr: id, gate: z.string(), tail: z.string().default('') }),
  'refinery.blocked': z.object({ mr: id, reason: z.string(), retry_after_ms: maybe(z.number()) }),
  'refinery.checkout_behind': z.object({ mr: id, reason: z.string() }),
  /** The gated candidate reached the rig's remote (before the local target moved). */
  'refinery.pushed': z.object({ mr: id, remote: z.string(), target: z.string(), sha: z.string(), attempts: z.number() }),
  /** Every push attempt failed: the local target was left as it was; `tail` is git's last output. */
  'refinery.push_failed': z.object({ mr: id, remote: z.string(), target: z.string(), sha: z.string(), attempts: z.number(), tail: z.string().default('') }),
  'refinery.checkout_repaired': z.object({ rig: id, from: z.string(), to: z.string(), reason: z.string() }),
  /**
   * Invariant 7: a target branch moved, not by the refinery. `fast-forward`: built on the tip
   * the refinery knew (a user's commit); `rewrite`: commits were dropped (listed, newest first;
   * `refinery` marks the refinery's own merges).
   */
  'rig.target_moved_outside': z.object({
    rig: id, target: z.string(), from: z.string(), to: z.string(), kind: z.enum(['fast-forward', 'rewrite']),
    added: z.number().default(0), dropped_count: z.number().default(0),
    dropped: z.array(z.object({ sha: z.string(), subject: z.string(), refinery: z.boolean() })).default([]),
  }),

  // Written by the writers as they change the town (the feed shows them).
  'bead.created': z.object({ title: z.string(), rig: maybe(z.string()), origin: z.object({ kind: z.string(), id: z.string() }) }),
  'bead.updated': z.object({ fields: z.array(z.string()) }),
  'bead.slung': z.object({ target: z.string() }),
  /** Out of dispatch until the overseer releases it. */
  'bead.held': z.object({ reason: z.string() }),
  'bead.released': z.object({ cause: z.string() }),
  ...(Object.fromEntries(BEAD_STATUSES.map((s) => [`bead.${s}`, beadStatusChange])) as Record<`bead.${(typeof BEAD_STATUSES)[number]}`, typeof beadStatusChange>),
  'dependency.added': z.object({ depends_on: id, type: z.string() }),
  /** One per batch of an import (never one per bead), and one when its links are made. */
  'beads.imported': z.object({
    file: z.string(), rig: id, beads: z.number(), from_line: z.number().optional(), to_line: z.number().optional(),
    dependencies: z.number().optional(), convoys: z.number().optional(), skipped: z.number().optional(),
  }),
  'dependency.removed': z.object({ depends_on: id, type: z.string() }),
  'convoy.created': z.object({ beads: z.array(id), mode: z.enum(['direct', 'integration']).optional() }),
  /** The overseer set or removed a convoy's budget (null: none). */
  'convoy.budget_set': z.object({ budget_usd: z.number().nullable() }),
  'convoy.started': z.object({ from: z.enum(CONVOY_STATUSES).optional(), cause: z.string().optional() }),
  'convoy.landed': z.object({ from: z.enum(CONVOY_STATUSES).optional(), cause: z.string().optional() }),
  'convoy.members_removed': z.object({ beads: z.array(id) }),
  'convoy.reordered': z.object({ bead: id, position: z.number() }),
  'agent.created': z.object({ role: z.string(), rig: maybe(z.string()) }),
  'agent.hooked': z.object({ launch }),
  'agent.status': z.object({ from: z.enum(AGENT_STATUSES), to: z.enum(AGENT_STATUSES), cause: z.string().optional(), evidence: evidence.optional() }),
  'agent.stopping': z.object({ reason: z.string() }),
  'agent.released': z.object({ status: z.enum(AGENT_STATUSES), cause: z.string() }),
  'agent.done': z.object({ status: z.string(), summary: maybe(z.string()) }),
  'agent.done_ignored': z.object({ hook: maybe(z.string()), status: z.string() }),
  'agent.restart_requested': z.object({ fresh: z.boolean().optional() }),
  /** An idle polecat collected: its worktree is gone, and so is its row. */
  'agent.removed': z.object({ cause: z.string() }),
  'history.pruned': z.object({ events: z.number(), logs: z.number() }),
  /** The periodic ref sweep deleted merged branches or old backup refs of a rig (full ref names). */
  'refs.pruned': z.object({ rig: id, refs: z.array(z.string()) }),
  'agent.nudged': z.object({ text: z.string(), evidence }),
  /** A runtime's session id seen for the first time (resumed after a restart on the same bead). */
  'agent.runtime_session': z.object({ session: id, runtime: z.string(), runtime_session: z.string(), resumed: z.boolean().optional() }),
  /** The runtime's turn ended without `town done`: it sits at its prompt (the GUPP rule reminds it). */
  'agent.turn_ended': z.object({ session: id, runtime: z.string(), message: z.string().optional() }),
  /** The runtime hit a usage limit or an authentication failure: the agent is paused, not restarted. */
  'agent.runtime_blocked': z.object({ session: id, runtime: z.string(), kind: z.enum(['limit', 'auth']), message: z.string() }),
  /** A rig's runtime CLI is not installed or does not run: its bead is held, not dispatched again. */
  'runtime.missing': z.object({ runtime: z.string(), rig: id, problem: z.string(), launch }),
  /** A session's running totals grew. */
  'usage.recorded': z.object({
    session: id, runtime: z.string(), model: maybe(z.string()),
    input_tokens: z.number(), output_tokens: z.number(), cache_creation_tokens: z.number(), cache_read_tokens: z.number(),
    /** null: no report of the session carried a cost (Codex reports tokens only). */
    cost_usd: z.number().nullable(),
  }),
  /** Spend reached 80 % (warning) or 100 % (reached: dispatch of what it covers pauses) of a budget. */
  'budget.warning': z.object({ scope: z.enum(['town', 'convoy', 'rig']), id: maybe(id), spent_usd: z.number(), budget_usd: z.number() }),
  'budget.reached': z.object({ scope: z.enum(['town', 'convoy', 'rig']), id: maybe(id), spent_usd: z.number(), budget_usd: z.number() }),
  'agent.respawn': z.object({ launch, cause: z.string(), after_ms: z.number() }),
  /** A report that belonged to an earlier launch (or session) of its agent: kept, not applied. */
  'event.ignored': z.object({ seq: z.number(), type: z.string(), why: z.string() }),
  'mr.queued': mrStateChange.extend({ from: z.enum(MR_STATES).optional(), branch: z.string().optional(), target: z.string().optional() }),
  ...(Object.fromEntries(MR_STATES.filter((s) => s !== 'queued').map((s) => [`mr.${s}`, mrStateChange])) as Record<`mr.${Exclude<(typeof MR_STATES)[number], 'queued'>}`, typeof mrStateChange>),
  /** A claim whose lease ran out with its holder gone: the MR went back to the queue. */
  'mr.lease_expired': z.object({ mr: id, holder: maybe(z.string()), evidence }),
  /** Gate output or a step of the run: the claim's lease goes on. */
  'mr.lease_renewed': z.object({ mr: id, session: maybe(z.string()) }),
  /** The overseer put a queued MR at a place in its rig's queue (1 = next). */
  'mr.moved': z.object({ mr: id, position: z.number() }),
  /** The overseer sent a failed or blocked MR back to the queue. */
  'mr.retried': z.object({ mr: id, from: z.enum(MR_STATES) }),
  /** The overseer rejected an MR: failed as `rejected`, its bead reopened with the reason. */
  'mr.rejected': z.object({ mr: id, reason: z.string() }),
  /** The overseer retried or rejected a blocked MR: its resolution bead was closed and its agent stopped. */
  'mr.resolution_superseded': z.object({ mr: id, resolution: id, by: z.enum(['retry', 'reject']), agent: maybe(z.string()) }),
  /** The MR's resolution bead ended (failed, or closed by hand) without resolving: the MR failed. */
  'mr.resolution_failed': z.object({ mr: id, resolution: id, status: z.enum(BEAD_STATUSES), reason: maybe(z.string()) }),
  /**
   * A failed merge sent its bead back for rework (`count`: reworks of this bead so far):
   * `needs-rebase` through a resolution bead, `needs-fix`/`setup` on the bead itself.
   */
  'bead.rework': z.object({ mr: id, label: z.string(), count: z.number(), to: maybe(z.string()), resolution: maybe(id) }),
  'mail.sent': z.object({ id, to: z.string(), subject: z.string(), kind: z.string() }),
  escalation: z.object({ reason: z.string(), id: z.string().optional(), severity: z.string().optional() }),
  'escalation.acked': z.object({ id, by: z.string(), reason: z.string() }),
  /** Unacked past `escalation.reescalate_after`: mailed again (count = times raised so far). */
  'escalation.reraised': z.object({ id, reason: z.string(), severity: z.string(), count: z.number() }),
  'mail.read': z.object({ id, by: z.string() }),
  'mail.acked': z.object({ id, by: z.string() }),
  'rig.added': z.object({ rig: id, path: z.string(), branch: z.string() }),
  'rig.updated': z.object({ rig: id, fields: z.array(z.string()) }),
  'config.set': z.object({ key: z.string(), value: z.unknown() }),
  /** E-stop and thaw, with every session whose process group did not take the signal. */
  'town.frozen': z.object({ reason: z.string(), sessions: z.number(), failed: z.array(z.object({ session: z.string(), agent: z.string(), error: z.string() })) }),
  'town.thawed': z.object({ frozen_since: z.string(), sessions: z.number(), failed: z.array(z.object({ session: z.string(), agent: z.string(), error: z.string() })) }),
  /** Dispatch paused: by the overseer, or by the circuit breaker with its evidence. */
  'dispatch.paused': z.object({ by: z.string(), reason: z.string(), evidence: evidence.optional() }),
  /** Dispatch resumed; the breaker counts only failures after the last resume. */
  'dispatch.resumed': z.object({ by: z.string() }),
  'worktree.stashed': z.object({ worktree: maybe(z.string()) }),
  /** Seen after a tick; recorded once per distinct violation until it clears. */
  'invariant.violated': z.object({ invariant: z.number(), key: z.string(), message: z.string() }),
  'invariant.cleared': z.object({ invariant: z.number(), key: z.string(), message: z.string() }),
  'worktree.resumed': z.object({ continued_from: maybe(z.string()), removed_locks: z.array(z.string()).default([]) }),
} as const;

export type EventType = keyof typeof EVENT_PAYLOADS;
export type EventPayload<T extends EventType> = z.output<(typeof EVENT_PAYLOADS)[T]>;
/** What a writer passes in (defaults may be left out). */
export type EventPayloadInput<T extends EventType> = z.input<(typeof EVENT_PAYLOADS)[T]>;
export type Evidence = z.output<typeof evidence>;

export function isEventType(t: string): t is EventType {
  return Object.hasOwn(EVENT_PAYLOADS, t);
}

export type ParsedEvent = { [T in EventType]: { type: T; payload: EventPayload<T> } }[EventType];

/** Parses a stored event's payload by its type; throws naming the field when it does not fit. */
export function parseEventPayload(type: string, json: string): ParsedEvent {
  if (!isEventType(type)) throw new Error(`unknown event type ${type}`);
  const result = EVENT_PAYLOADS[type].safeParse(JSON.parse(json));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`${type} payload: ${issue?.path.join('.') || '(payload)'}: ${issue?.message}`);
  }
  return { type, payload: result.data } as ParsedEvent;
}
