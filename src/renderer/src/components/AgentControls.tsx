// Allow/Deny a pending permission, stop and hold (confirmed) and restart, wherever the UI offers an agent: the Agents view,
// a terminal's bar, a bead's detail. Stop means stop: the bead stays open but held out of
// dispatch until the overseer releases it.
import { useState } from 'react';
import type { AgentView } from '../../../shared/domain';
import { isLive } from '../state/selectors';
import { getBackend } from '../state/town-store';
import { attempt } from '../state/ui-store';
import { PermissionButtons } from './PermissionAnswer';

export function stopAndHold(a: AgentView) {
  const held = a.hook ? `; ${a.hook} is held until you release it` : '';
  return attempt(() => getBackend().call('agent.stop', { agent: a.id, hold: true }), `Stopped ${a.name}${held}`);
}

/** `fresh`: a new conversation instead of resuming the runtime's one on this bead. */
export function restartAgent(a: AgentView, fresh = false) {
  const how = fresh ? ', in a new conversation' : '';
  return attempt(() => getBackend().call('agent.restart', { agent: a.id, fresh }), `Restarting ${a.name} on ${a.hook}${how}`);
}

export const canStop = (a: AgentView) => isLive(a) || !!a.hook;
export const canRestart = (a: AgentView) => !!a.hook && a.role === 'polecat';

export function AgentControls({ agent: a, small = false }: { agent: AgentView; small?: boolean }) {
  const [confirming, setConfirming] = useState(false);
  const size = small ? 'small' : '';
  if (confirming) {
    return (
      <span className="agent-controls" role="group" aria-label={`Stop ${a.name}?`} onKeyDown={(e) => e.key === 'Escape' && setConfirming(false)}>
        <button
          autoFocus
          className={`danger ${size}`}
          onClick={() => {
            setConfirming(false);
            void stopAndHold(a);
          }}
        >
          Stop {a.name}{a.hook ? ` and hold ${a.hook}` : ''}?
        </button>
        <button className={`ghost ${size}`} onClick={() => setConfirming(false)}>
          Cancel
        </button>
      </span>
    );
  }
  return (
    <span className="agent-controls">
      <PermissionButtons agent={a} small={small} />
      <button
        className={size}
        disabled={!canStop(a)}
        onClick={() => setConfirming(true)}
        title="Stop the agent; its bead stays open but is held out of dispatch until you release it"
      >
        Stop and hold
      </button>
      <button className={size} disabled={!canRestart(a)} onClick={() => void restartAgent(a)} title="Stop the agent and start it again on the same bead (resuming its conversation there)">
        Restart
      </button>
      {a.runtime_session && (
        <button className={size} disabled={!canRestart(a)} onClick={() => void restartAgent(a, true)} title="Stop the agent and start it again on the same bead in a new conversation">
          Restart fresh
        </button>
      )}
    </span>
  );
}
