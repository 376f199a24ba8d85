// Human-readable output for the `town` CLI. `--json` bypasses all of this.
// Every value shown here may come from an agent: cells and one-line fields go through printable().
import type { DoctorReport } from '../shared/doctor';
import { costWords, UNPRICED_WHY } from '../shared/cost';
import type { AgentView, BeadView, ConfigSettingView, ConvoyView, CostReport, UsageTotals, EscalationView, FreezeReport, MailView, MergeQueueDetail, MergeQueueEntry, RigView, TownStatus } from '../shared/domain';
import { line, printable, printableLines } from './printable';

export function table(rows: string[][], header: string[]): string {
  if (rows.length === 0) return '(none)';
  // Escaped before measuring, so a column is as wide as what the terminal shows.
  const all = [header, ...rows.map((r) => r.map((cell) => printable(cell ?? '')))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : (cell ?? '').padEnd(widths[i]))).join('  ')).join('\n');
}

export function ago(iso: string | null): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export const beadTable = (beads: BeadView[]) =>
  table(
    beads.map((b) => [b.id, b.status, `P${b.priority}`, b.rig ?? '-', b.assignee ?? '-', b.blocked_by.length ? `blocked by ${b.blocked_by.join(',')}` : '', b.title]),
    ['ID', 'STATUS', 'PRI', 'RIG', 'ASSIGNEE', 'BLOCKED', 'TITLE'],
  );

export function beadDetail(b: BeadView): string {
  return [
    line`${b.id}  ${b.title}`,
    line`  status:     ${b.status}` + (b.close_reason ? line` (${b.close_reason})` : ''),
    line`  rig:        ${b.rig ?? '-'}    priority: P${b.priority}    type: ${b.type}`,
    line`  assignee:   ${b.assignee ?? '-'}    attempts: ${b.dispatch_attempts}`,
    line`  labels:     ${b.labels.join(', ') || '-'}`,
    line`  depends on: ${b.depends_on.join(', ') || '-'}` + (b.blocked_by.length ? line`  (blocked by ${b.blocked_by.join(', ')})` : ''),
    b.scenario ? line`  scenario:   ${b.scenario}` : '',
    line`  created:    ${b.created_at}  by ${b.origin.kind}:${b.origin.id}`,
    b.body ? `\n${printableLines(b.body)}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** `claude (bypass, model claude-sonnet-4-5, budget $25)`: how the rig's agents run. */
export function runtimeSummary(r: RigView): string {
  const cli = r.runtime === 'claude' || r.runtime === 'codex';
  const parts = [...(cli ? [r.permissions] : []), ...(r.model ? [`model ${r.model}`] : []), ...(r.budget_usd !== null ? [`budget $${r.budget_usd}`] : [])];
  return parts.length ? `${r.runtime} (${parts.join(', ')})` : r.runtime;
}

export const rigTable = (rigs: RigView[]) =>
  table(
    rigs.map((r) => [r.name, r.prefix, r.default_branch, runtimeSummary(r), String(r.max_polecats), r.gates.map((g) => g.name).join(',') || '-', r.path]),
    ['NAME', 'PREFIX', 'BRANCH', 'RUNTIME', 'MAX', 'GATES', 'PATH'],
  );

export function convoyLine(c: ConvoyView): string {
  const pct = c.total ? Math.round((100 * c.closed) / c.total) : 0;
  const mode = c.mode === 'integration' ? ` (integration: convoy/${c.id})` : '';
  const head = line`${c.id}  ${c.status}${c.stuck ? ' (stuck)' : ''}${mode}  ${c.closed}/${c.total} (${pct}%)  ${c.title}`;
  const budget = c.budget_usd !== null && c.budget_usd !== undefined ? [line`  spent $${c.spend_usd.toFixed(2)} of $${c.budget_usd.toFixed(2)} budget${c.unpriced_tokens > 0 ? line` + ${tokenCount(c.unpriced_tokens)} tokens without a price (not counted)` : ''}${c.dispatch_paused ? ` · dispatch ${c.dispatch_paused}` : ''}`]
    : c.dispatch_paused ? [line`  dispatch ${c.dispatch_paused}`] : [];
  return [head, ...budget, ...(c.rework ?? []).map((r) => line`  ${r.bead} in rework: ${r.why}`)].join('\n');
}

export const convoyTable = (convoys: ConvoyView[]) =>
  table(
    convoys.map((c) => [c.id, c.status + (c.stuck ? ' (stuck)' : '') + (c.mode === 'integration' ? ' (integration)' : ''), `${c.closed}/${c.total}`, c.title]),
    ['ID', 'STATUS', 'DONE', 'TITLE'],
  );

export const agentTable = (agents: AgentView[]) =>
  table(
    agents.map((a) => [a.id, a.role, a.status, a.hook ?? '-', a.pid ? String(a.pid) : '-', ago(a.last_output_at)]),
    ['AGENT', 'ROLE', 'STATUS', 'HOOK', 'PID', 'LAST OUTPUT'],
  );

/** "12m", "3h": how long, for the queue's wait column. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

const lastLine = (tail: string) => tail.trimEnd().split('\n').at(-1) ?? '';

/** What an MR waits on, or why it stopped: failure type and the tail's last line, or the blocking reason. */
function mqNote(m: MergeQueueEntry): string {
  if (m.failure) return `${m.failure.type}: ${lastLine(m.failure.tail)}`;
  if (m.blocked_reason) return `blocked: ${m.blocked_reason}`;
  if (m.moved_to) return `moved to ${m.moved_to}`;
  return '';
}

export const mqTable = (mrs: MergeQueueEntry[]) =>
  table(
    mrs.map((m) => [
      m.position === null ? '-' : String(m.position), m.id, m.bead, m.state, duration(m.waiting_ms),
      m.claimed_by ?? '-', m.gate ? `${m.gate.name} ${m.gate.index}/${m.gate.of}` : '-', mqNote(m),
    ]),
    ['#', 'MR', 'BEAD', 'STATE', 'WAIT', 'HOLDER', 'GATE', 'NOTE'],
  );

export function mqDetail(m: MergeQueueDetail): string {
  return [
    line`${m.id}  ${m.title}`,
    line`  state:    ${m.state}` + (m.position !== null ? line` (place ${m.position} in the queue)` : '') + line`    attempts: ${m.attempts}    waiting: ${duration(m.waiting_ms)}`,
    line`  bead:     ${m.bead}    rig: ${m.rig}    ${m.branch} → ${m.target}`,
    line`  head:     ${m.head_sha ?? '-'}` + (m.merge_sha ? line`    merged as ${m.merge_sha}` : ''),
    m.claimed_by ? line`  holder:   ${m.claimed_by}, lease until ${m.lease_until ?? '-'}` : '',
    m.gate ? line`  gate:     ${m.gate.name} (${m.gate.index}/${m.gate.of}) since ${m.gate.since}` : '',
    m.blocked_reason ? line`  blocked:  ${m.blocked_reason}` : '',
    m.failure ? `${line`  failed:   ${m.failure.type}`}\n${printableLines(m.failure.tail.trimEnd()).replace(/^/gm, '    ')}` : '',
    '  history:',
    ...m.events.map((e) => line`    ${e.seq}  ${e.at}  ${e.type}  ${e.text}`),
  ].filter(Boolean).join('\n');
}

export const mailTable = (mail: MailView[]) =>
  table(
    mail.map((m) => [m.id, m.read_at ? ' ' : '*', m.priority, m.from, ago(m.created_at), m.subject]),
    ['ID', 'NEW', 'PRIORITY', 'FROM', 'WHEN', 'SUBJECT'],
  );

export function mailDetail(m: MailView): string {
  return [
    line`${m.id}  ${m.subject}`,
    line`  from: ${m.from}    to: ${m.to}    priority: ${m.priority}    kind: ${m.kind}`,
    line`  sent: ${m.created_at} (${ago(m.created_at)})` + (m.acked_at ? line`    acked ${ago(m.acked_at)}` : ''),
    m.body ? `\n${printableLines(m.body)}` : '',
  ].filter(Boolean).join('\n');
}

/** Severity, age, who and what, why, and the evidence in one line each row. */
export const escalationTable = (escalations: EscalationView[]) =>
  table(
    escalations.map((e) => [
      e.id, e.severity.toUpperCase(), ago(e.created_at) + (e.raised_count > 1 ? ` (×${e.raised_count})` : ''),
      [e.agent ?? e.source, e.bead].filter(Boolean).join(' on '), e.reason + (e.acked_at ? ' [acked]' : ''), e.evidence.summary,
    ]),
    ['ID', 'SEVERITY', 'AGE', 'AGENT / BEAD', 'REASON', 'EVIDENCE'],
  );

/** What an e-stop or thaw did, with each session whose process group did not take the signal. */
export function freezeText(r: FreezeReport, what: 'frozen' | 'thawed'): string {
  const head =
    what === 'frozen'
      ? line`town frozen: dispatch paused, ${r.sessions} session(s) stopped (SIGSTOP). Resume with: town thaw`
      : line`town thawed: ${r.sessions} session(s) continued (SIGCONT), dispatch resumed`;
  return [head, ...r.failed.map((f) => line`  ! ${f.session} (${f.agent}): ${f.error}`)].join('\n');
}

export function statusText(s: TownStatus): string {
  const counts = Object.entries(s.counts).map(([k, v]) => line`${k} ${v}`).join(', ') || 'no beads';
  return [
    line`town ${s.town} (engine pid ${s.pid})`,
    `  beads:      ${counts}`,
    `  polecats:   ${s.agents.working} working of ${s.agents.total}`,
    `  dispatch:   ${s.dispatch_paused || s.frozen ? 'PAUSED' : 'on'}`,
    ...(s.frozen ? [line`  FROZEN since ${s.frozen.since}: ${s.frozen.reason} (town thaw resumes it)`] : []),
    ...(s.dispatch_pause ? [line`    ${s.dispatch_pause.reason}${s.dispatch_pause.evidence ? `: ${s.dispatch_pause.evidence.summary}` : ''}`, '    resume: town config set dispatch_paused false'] : []),
    `  reconciler: ${s.reconciler.ticks} ticks, last ${s.reconciler.last_tick_ms} ms`,
    `  memory:     ${s.memory.rss_mb} MB rss`,
    ...(s.reconciler.violations.length ? ['  invariant violations:', ...s.reconciler.violations.map((v) => line`    ! ${v}`)] : []),
  ].join('\n');
}

/** Invariant 7's reports, each with the escalation to ack. */
function targetMovesText(d: DoctorReport): string[] {
  const moves = d.invariants.target_moves ?? [];
  if (!moves.length) return [];
  return [
    line`  target branches moved outside the refinery (invariant 7): ${moves.length}`,
    ...moves.flatMap((m) => [line`  ! [7] (${m.severity}) ${m.summary}  ack: town ack ${m.escalation}`, ...m.details.slice(0, 5).map((l) => line`      ${l}`)]),
  ];
}

/** `town doctor`: invariants first (what is wrong), then the reconciler's ticks, then each agent's health. */
export function doctorText(d: DoctorReport): string {
  const t = d.ticks;
  const actions = Object.entries(t.actions).map(([type, n]) => line`${type} ${n}`).join(', ') || 'none';
  const agents = d.agents.map((a) => [
    a.id,
    a.status,
    ago(a.since),
    a.hook ?? '-',
    a.last_progress ? `${ago(a.last_progress.at)} (${a.last_progress.source})` : ago(a.last_progress_at),
    a.nudged_at ? ago(a.nudged_at) : '-',
    a.evidence?.summary ?? a.last_progress?.summary ?? '',
  ]);
  const runtimes = d.runtimes.map((r) =>
    r.problem
      ? line`  ${r.runtime}: ${r.rigs.length ? '! ' : ''}${r.problem}${r.rigs.length ? ` (rigs ${r.rigs.join(', ')} need it)` : ''}`
      : line`  ${r.runtime}: ${r.version ?? '?'} at ${r.path ?? '?'} (${r.source === 'bundled' ? "Overseer's own install" : r.source === 'config' ? 'configured' : 'on PATH'})`,
  );
  return [
    'runtimes:',
    ...runtimes,
    '',
    d.invariants.violations.length
      ? [line`invariants: ${d.invariants.violations.length} violated`, ...d.invariants.violations.map((v) => line`  ! [${v.invariant}] ${v.message}`)].join('\n')
      : 'invariants: all hold',
    ...targetMovesText(d),
    '',
    line`reconciler: last ${t.count} ticks, p50 ${t.p50_ms} ms, max ${t.max_ms} ms, ${t.events} events drained`,
    line`  actions:  ${actions}`,
    line`  effects:  ${t.effects_ok} ok, ${t.effects_failed} failed`,
    '',
    'agents:',
    table(agents, ['AGENT', 'STATUS', 'SINCE', 'HOOK', 'LAST PROGRESS', 'NUDGED', 'EVIDENCE']),
  ].join('\n');
}

// Town configuration. The DEFAULT column is filled only where a value differs from its default;
// long texts are cut short here (`config get` prints them whole).
const cell = (s: string) => (s.length > 40 ? `${s.slice(0, 39)}…` : s);
export const configTable = (settings: ConfigSettingView[]) =>
  table(
    settings.map((c) => [c.key, cell(c.display), c.display === c.default_display ? '' : cell(c.default_display), c.about]),
    ['KEY', 'VALUE', 'DEFAULT', 'ABOUT'],
  );

export const settingLine = (c: ConfigSettingView) =>
  line`${c.key} = ${c.display}` + (c.display === c.default_display ? '' : line` (default ${c.default_display})`);

const dollars = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;
const tokenCount = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n));
const usageCells = (u: UsageTotals) => [tokenCount(u.input_tokens), tokenCount(u.output_tokens), tokenCount(u.cache_creation_tokens), tokenCount(u.cache_read_tokens), costWords(u, dollars, tokenCount)];

/** `town costs`: the town's total against its budget, then one row per agent, bead, convoy or rig. */
export function costsText(r: CostReport): string {
  const budget = r.town.budget_usd !== null ? ` of ${dollars(r.town.budget_usd)} budget` : '';
  const head = line`town: ${costWords(r.town, dollars, tokenCount)}${budget} · ${tokenCount(r.town.input_tokens)} in, ${tokenCount(r.town.output_tokens)} out, ${tokenCount(r.town.cache_read_tokens)} cache read`;
  const rows = r.rows.map((row) => [row.key, row.label, ...usageCells(row), row.budget_usd !== null ? dollars(row.budget_usd) : '-']);
  const why = r.town.cost_partial ? `\n(${UNPRICED_WHY}; budgets count only priced spend)` : '';
  return `${head}\n${table(rows, [r.by.toUpperCase(), 'NAME', 'IN', 'OUT', 'CACHE W', 'CACHE R', 'COST', 'BUDGET'])}${why}`;
}
