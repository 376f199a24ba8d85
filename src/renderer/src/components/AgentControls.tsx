// Allow/Deny a pending permission, stop and hold (confirmed) and restart, wherever the UI
// offers an agent: the Agents view, a terminal's bar, a bead's detail. Allow/Deny stay in
// sight; the rest sit behind one menu button so a row never runs out of room. Stop means
// stop: the bead stays open but held out of dispatch until the overseer releases it.
import { useState } from 'react';
import type { AgentView } from '../../../shared/domain';
import { isLive } from '../state/selectors';
import { getBackend } from '../state/town-store';
import { attempt } from '../state/ui-store';
import { MenuButton, type MenuItem } from './MenuButton';
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

/** Asks before stopping: Enter confirms (the confirmation takes the focus), Esc cancels. */
export function StopConfirm({ agent: a, small = false, onDone }: { agent: AgentView; small?: boolean; onDone: () => void }) {
  const size = small ? 'small' : '';
  return (
    <span className="agent-controls" role="group" aria-label={`Stop ${a.name}?`} onKeyDown={(e) => e.key === 'Escape' && onDone()}>
      <button
        autoFocus
        className={`danger ${size}`}
        onClick={() => {
          onDone();
          void stopAndHold(a);
        }}
      >
        Stop {a.name}{a.hook ? ` and hold ${a.hook}` : ''}?
      </button>
      <button className={`ghost ${size}`} onClick={onDone}>
        Cancel
      </button>
    </span>
  );
}

const STOP_TITLE = 'Stop the agent; its bead stays open but is held out of dispatch until you release it';
const RESTART_TITLE = 'Stop the agent and start it again on the same bead (resuming its conversation there)';
const FRESH_TITLE = 'Stop the agent and start it again on the same bead in a new conversation';

/** Stop and hold (asks first), Restart, Restart fresh (only when there is a conversation to leave). */
export function agentMenuItems(a: AgentView, confirmStop: () => void): MenuItem[] {
  return [
    { label: 'Stop and hold…', onSelect: confirmStop, disabled: !canStop(a), title: STOP_TITLE, danger: true },
    { label: 'Restart', onSelect: () => void restartAgent(a), disabled: !canRestart(a), title: RESTART_TITLE },
    ...(a.runtime_session ? [{ label: 'Restart fresh', onSelect: () => void restartAgent(a, true), disabled: !canRestart(a), title: FRESH_TITLE }] : []),
  ];
}

/** For the terminal bar and the bead panel: Allow/Deny when asked, the rest behind one menu button. */
export function AgentControls({ agent: a, small = false }: { agent: AgentView; small?: boolean }) {
  const [confirming, setConfirming] = useState(false);
  if (confirming) return <StopConfirm agent={a} small={small} onDone={() => setConfirming(false)} />;
  return (
    <span className="agent-controls">
      <PermissionButtons agent={a} small={small} />
      <MenuButton label="Agent ▾" ariaLabel={`Actions for ${a.name}`} small={small} items={agentMenuItems(a, () => setConfirming(true))} />
    </span>
  );
}
