// One row of the Overview's Problems: what is wrong, the evidence for it, and the action
// that deals with it (allow or deny a permission, answer, nudge, restart, reopen, ack), each a plain button.
import type { AgentView } from '../../../shared/domain';
import { getBackend, useTown } from '../state/town-store';
import type { Problem, ProblemAction } from '../state/selectors';
import { attempt, openBead, openTerminal } from '../state/ui-store';
import { answerPermission } from './PermissionAnswer';
import type { RowProps } from './virtual-list';

/** Typed into a stalled agent's terminal; `continue` is what a stalled agent waits for. */
const nudgeText = (a: AgentView) =>
  `[overseer] No progress seen${a.hook ? ` on ${a.hook}` : ''}. If you are blocked, say so with: town escalate --severity high --reason blocked "why". Otherwise continue the work.`;

const LABEL: Record<ProblemAction, string> = {
  allow: 'Allow', deny: 'Deny', answer: 'Answer', nudge: 'Nudge', restart: 'Restart', reopen: 'Reopen', ack: 'Ack', 'open-agent': 'Open terminal',
};

function run(action: ProblemAction, p: Problem, agent: AgentView | undefined) {
  const api = getBackend();
  const { agent: agentId, bead, escalation } = p.target;
  const name = agent?.name ?? agentId ?? '';
  switch (action) {
    case 'allow':
    case 'deny':
      if (agent) void answerPermission(agent, action);
      return;
    case 'answer':
    case 'open-agent':
      // The Terminals view focuses the active terminal once it is live: typing goes to the agent.
      if (agentId) openTerminal(agentId);
      return;
    case 'nudge':
      if (agent) void attempt(() => api.call('agent.input', { agent: agent.id, data: `${nudgeText(agent)}\r` }), `Nudged ${name}`);
      return;
    case 'restart':
      if (agentId) void attempt(() => api.call('agent.restart', { agent: agentId }), `Restarting ${name}`);
      return;
    case 'reopen':
      if (bead) void attempt(() => api.call('bead.reopen', { id: bead }), `Reopened ${bead}`);
      return;
    case 'ack':
      if (escalation) void attempt(() => api.call('escalation.ack', { id: escalation }), 'Acknowledged');
  }
}

export function ProblemRow({ p, row }: { p: Problem; row?: RowProps }) {
  const agent = useTown((s) => (p.target.agent ? s.entities.agent.get(p.target.agent) : undefined));
  const subject = agent?.name ?? p.target.bead ?? '';
  return (
    <li {...row} className={`row problem sev-${p.severity}`} data-problem={p.key}>
      <button className="row-main" onClick={() => (p.target.agent && agent?.session ? openTerminal(p.target.agent) : p.target.bead ? openBead(p.target.bead) : undefined)}>
        <strong>{p.title}</strong>
        <span className="muted">{p.detail}</span>
      </button>
      {p.evidence && <div className="evidence muted">{p.evidence}</div>}
      {p.actions.length > 0 && (
        <div className="problem-actions">
          {p.actions.map((a, i) => (
            <button key={a} className={i === 0 ? 'primary small' : 'small'} aria-label={`${LABEL[a]} ${subject}`.trim()} onClick={() => run(a, p, agent)}>
              {LABEL[a]}
            </button>
          ))}
        </div>
      )}
    </li>
  );
}
