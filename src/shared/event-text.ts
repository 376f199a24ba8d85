// One line a person reads for each event, with the evidence behind automatic actions:
// "working → waiting: no output for 3 s, node is reading the terminal, last line …".
// Shared by the event log in the CLI (`town events`) and the UI's feeds. Payloads are
// read defensively: an older event may lack a field a newer writer adds.

type Payload = Record<string, unknown>;

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
const evidenceOf = (p: Payload): string | null => {
  const e = p.evidence;
  return e && typeof e === 'object' ? text((e as Payload).summary) : null;
};
/** `a: b: c`, leaving out empty parts and a part that only repeats the one before it. */
const joined = (...parts: (string | null)[]) => parts.filter((p, i) => p && !parts[i - 1]?.endsWith(p)).join(': ');
const change = (from: unknown, to: string) => (text(from) ? `${text(from)} → ${to}` : to);
const seconds = (ms: unknown) => (typeof ms === 'number' ? `${Math.round(ms / 1000)} s` : null);

export function describeEvent(type: string, payload: Payload): string {
  const p = payload ?? {};
  const [kind, what] = type.split('.', 2);
  switch (type) {
    case 'agent.status':
      return joined(change(p.from, text(p.to) ?? '?'), evidenceOf(p) ?? text(p.cause));
    case 'agent.nudged':
      return joined('nudged', evidenceOf(p));
    case 'agent.runtime_session':
      return `${p.resumed ? 'resumed' : 'started'} ${text(p.runtime) ?? 'runtime'} session ${text(p.runtime_session) ?? '?'}`;
    case 'agent.restart_requested':
      return p.fresh ? 'restart asked, in a new conversation' : 'restart asked';
    case 'agent.turn_ended':
      return joined(`${text(p.runtime) ?? 'the runtime'} ended its turn without town done; it waits at its prompt`, text(p.message));
    case 'agent.runtime_blocked':
      return joined(`paused: ${p.kind === 'auth' ? 'authentication failed' : 'usage limit reached'}`, text(p.message));
    case 'runtime.missing':
      return joined(`cannot start ${text(p.runtime) ?? 'the runtime'} for rig ${text(p.rig) ?? '?'}; bead held`, text(p.problem));
    case 'usage.recorded':
      return `usage: ${text(p.input_tokens) ?? 0} in, ${text(p.output_tokens) ?? 0} out, ${text(p.cache_read_tokens) ?? 0} cache read, ${typeof p.cost_usd === 'number' ? `$${p.cost_usd.toFixed(4)}` : 'no price'}`;
    case 'budget.warning':
    case 'budget.reached': {
      const scope = p.scope === 'town' ? 'the town' : `${text(p.scope) ?? ''} ${text(p.id) ?? ''}`.trim();
      const spent = typeof p.spent_usd === 'number' ? `$${p.spent_usd.toFixed(2)}` : '?';
      const budget = typeof p.budget_usd === 'number' ? `$${p.budget_usd.toFixed(2)}` : '?';
      return type === 'budget.reached'
        ? `${scope} reached its budget (${spent} of ${budget}); dispatch paused`
        : `${scope} spent ${spent} of its ${budget} budget (80 %)`;
    }
    case 'convoy.budget_set':
      return typeof p.budget_usd === 'number' ? `budget set to $${p.budget_usd.toFixed(2)}` : 'budget removed';
    case 'agent.released':
      return joined(`released (${text(p.status) ?? 'idle'})`, text(p.cause));
    case 'agent.respawn':
      return joined(`restarting on the same hook in ${seconds(p.after_ms) ?? '0 s'}`, text(p.cause));
    case 'agent.stopping':
      return joined('stopping', text(p.reason));
    case 'agent.done':
      return joined(`done (${text(p.status) ?? 'completed'})`, text(p.summary));
    case 'agent.done_ignored':
      return `a done for a bead it no longer holds (hook: ${text(p.hook) ?? 'none'}), ignored`;
    case 'mr.lease_expired':
      return joined(`lease of ${text(p.holder) ?? 'the refinery'} expired, back to the queue`, evidenceOf(p));
    case 'mr.lease_renewed':
      return joined('lease renewed', text(p.session) ? `gate ${text(p.session)} made progress` : null);
    case 'mr.moved':
      return `moved to place ${text(p.position) ?? '?'} in the queue`;
    case 'mr.retried':
      return `sent back to the queue by the overseer (was ${text(p.from) ?? '?'})`;
    case 'mr.rejected':
      return joined('rejected by the overseer', text(p.reason));
    case 'mr.resolution_superseded':
      return joined(
        `${text(p.resolution) ?? 'its resolution bead'} closed as superseded: the overseer ${p.by === 'reject' ? 'rejected' : 'retried'} ${text(p.mr) ?? 'the merge'}`,
        text(p.agent) ? `${text(p.agent)} stopped` : null,
      );
    case 'mr.resolution_failed':
      return joined(`failed: its resolution bead ${text(p.resolution) ?? '?'} ${text(p.status) ?? 'ended'} without resolving the conflict`, text(p.reason));
    case 'beads.imported':
      return p.from_line !== undefined
        ? `imported ${text(p.beads) ?? 0} beads from ${text(p.file) ?? 'a file'} (lines ${text(p.from_line)}–${text(p.to_line)}) into ${text(p.rig) ?? '?'}`
        : `import of ${text(p.file) ?? 'a file'} done: ${text(p.dependencies) ?? 0} dependencies, ${text(p.convoys) ?? 0} convoys, ${text(p.skipped) ?? 0} records skipped`;
    case 'bead.held':
      return joined('held out of dispatch', text(p.reason));
    case 'town.frozen':
    case 'town.thawed': {
      const failed = Array.isArray(p.failed) && p.failed.length > 0 ? `, ${p.failed.length} could not be signalled` : '';
      const head = type === 'town.frozen' ? `frozen: ${text(p.sessions) ?? 0} session(s) stopped` : `thawed: ${text(p.sessions) ?? 0} session(s) continued`;
      return joined(head + failed, text(p.reason));
    }
    case 'dispatch.paused':
      return joined(`dispatch paused by ${text(p.by) ?? '?'}`, text(p.reason), evidenceOf(p));
    case 'dispatch.resumed':
      return `dispatch resumed by ${text(p.by) ?? '?'}`;
    case 'session.kill_failed':
      return joined(`could not kill process group ${text(p.pgid) ?? '?'} (${text(p.during) ?? '?'})`, text(p.error));
    case 'history.pruned':
      return `pruned ${text(p.events) ?? 0} old event(s) and ${text(p.logs) ?? 0} log(s)`;
    case 'refs.pruned': {
      const refs = Array.isArray(p.refs) ? p.refs.map(String) : [];
      const names = refs.slice(0, 5).map((r) => r.replace(/^refs\/heads\//, '')).join(', ') + (refs.length > 5 ? ` (and ${refs.length - 5} more)` : '');
      return `pruned ${refs.length} merged branch(es) and old backup ref(s) of ${text(p.rig) ?? '?'}: ${names}`;
    }
    case 'escalation.reraised':
      return joined(`raised again (×${text(p.count) ?? '?'})`, text(p.reason));
    case 'session.progress':
      return text(p.summary) ?? (text(p.source) ? `progress (${text(p.source)})` : 'progress');
    case 'invariant.violated':
      return joined(`invariant ${text(p.invariant) ?? '?'} violated`, text(p.message));
    case 'invariant.cleared':
      return joined(`invariant ${text(p.invariant) ?? '?'} holds again`, text(p.message));
    case 'session.waiting':
      return joined('needs input', evidenceOf(p));
    case 'session.spawn_failed':
      return joined('could not start', text(p.error));
    case 'session.exited': {
      const how = typeof p.signal === 'number' && p.signal > 0 ? `killed by signal ${p.signal}` : `exit code ${text(p.exit_code) ?? '?'}`;
      return joined(how, text(p.reason) === 'exited' ? null : text(p.reason));
    }
    case 'event.ignored':
      return joined(`${text(p.type) ?? 'a report'} ignored`, text(p.why));
    case 'escalation':
      return joined(text(p.severity), text(p.reason));
    case 'config.set':
      return `${text(p.key) ?? '?'} = ${JSON.stringify(p.value)}`;
    case 'refinery.candidate':
      return joined(`candidate ${(text(p.candidate_sha) ?? '?').slice(0, 10)}`, text(p.reason));
    case 'refinery.setup':
      return joined(p.ok === false ? 'setup failed' : 'setup ran', text(p.reason));
    case 'refinery.failed':
      return joined('failed', text(p.failure_type));
    case 'refinery.pushed':
      return `pushed ${(text(p.sha) ?? '?').slice(0, 10)} to ${text(p.remote) ?? '?'}/${text(p.target) ?? '?'}` + (Number(p.attempts) > 1 ? ` (attempt ${text(p.attempts)})` : '');
    case 'refinery.push_failed':
      return joined(`push to ${text(p.remote) ?? '?'}/${text(p.target) ?? '?'} failed after ${text(p.attempts) ?? '?'} attempt(s); ${text(p.target) ?? 'the target'} left as it was`, lastLine(p.tail));
    case 'rig.target_moved_outside':
      return targetMovedText(p);
    case 'refinery.flaky':
      return `${text(p.gate) ?? 'a gate'} failed, then passed on its rerun: flaky`;
    case 'bead.rework':
      return joined(`back for rework (${text(p.label) ?? '?'}, ${text(p.count) ?? '?'})`, p.resolution ? `resolved in ${text(p.resolution)}` : null, p.to ? `to ${text(p.to)}` : null);
    case 'refinery.blocked':
    case 'refinery.checkout_behind':
      return joined(what, text(p.reason));
  }
  if (kind === 'bead' && 'cause' in p) return joined(change(p.from, what), text(p.cause), text(p.reason));
  if (kind === 'mr' && 'from' in p) return joined(change(p.from, what), text(p.failure), text(p.reason));
  if (kind === 'convoy' && text(p.cause)) return joined(what, text(p.cause));
  return evidenceOf(p) ?? text(p.reason) ?? text(p.cause) ?? '';
}

const lastLine = (v: unknown) => text(v)?.trim().split('\n').pop() ?? null;

/** Invariant 7's report: which branch, from where to where, and what was dropped. */
export function targetMovedText(p: Record<string, unknown>): string {
  const short = (v: unknown) => (text(v) ?? '?').slice(0, 10);
  const where = `${text(p.rig) ?? '?'}/${text(p.target) ?? '?'} moved outside the refinery, ${short(p.from)} → ${short(p.to)}`;
  if (p.kind === 'fast-forward') return `${where}: fast-forward, ${text(p.added) ?? 0} commit(s) added`;
  const dropped = Array.isArray(p.dropped) ? (p.dropped as { refinery?: boolean }[]) : [];
  const merges = dropped.filter((d) => d.refinery).length;
  return `${where}: rewritten, ${text(p.dropped_count) ?? dropped.length} commit(s) dropped` + (merges ? `, ${merges} of them merges by the refinery` : '');
}
