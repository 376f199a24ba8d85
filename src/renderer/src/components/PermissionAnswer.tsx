// Allow or Deny for the tool call an agent's runtime asks permission for, wherever the UI
// shows that agent. The engine refuses (nothing typed) once the ask is gone or has changed.
import type { AgentView, PermissionDecision } from '../../../shared/domain';
import { getBackend } from '../state/town-store';
import { attempt } from '../state/ui-store';

export function answerPermission(a: AgentView, decision: PermissionDecision) {
  // The command the overseer is looking at: a different pending ask is not answered.
  const command = a.evidence?.permission?.command ?? null;
  const tool = a.evidence?.permission?.tool;
  return attempt(
    () => getBackend().call('agent.answer_permission', { agent: a.id, decision, command, ...(tool ? { tool } : {}) }),
    `${decision === 'allow' ? 'Allowed' : 'Denied'} ${a.evidence?.permission?.tool ?? 'the call'} for ${a.name}`,
  );
}

export const asksPermission = (a: AgentView) => a.status === 'waiting' && !!a.evidence?.permission;

export function PermissionButtons({ agent: a, small = false }: { agent: AgentView; small?: boolean }) {
  if (!asksPermission(a)) return null;
  const ask = a.evidence!.permission!;
  const size = small ? 'small' : '';
  return (
    <span className="permission-answer" role="group" aria-label={`${a.name} asks to use ${ask.tool}: ${ask.command ?? ''}`}>
      <button className={`primary ${size}`} onClick={() => void answerPermission(a, 'allow')} title={`Allow ${ask.tool}: ${ask.command ?? ''}`}>
        Allow
      </button>
      <button className={size} onClick={() => void answerPermission(a, 'deny')} title="Deny; the agent is told to do it another way or escalate">
        Deny
      </button>
    </span>
  );
}
