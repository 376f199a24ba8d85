// The e-stop: a button that is always in reach (confirmed before it freezes the town), and
// while the town is frozen a banner that says so, with the way back. The state is the
// `town_frozen` setting, kept live by the change feed.
import { useState } from 'react';
import type { FrozenView } from '../../../shared/domain';
import { getBackend, useTown } from '../state/town-store';
import { attempt, notify } from '../state/ui-store';
import { Ago } from './time';

export function useFrozen(): FrozenView | null {
  return useTown((s) => (s.entities.setting.get('town_frozen')?.value as FrozenView | null | undefined) ?? null);
}

const failures = (r: { failed: { session: string; error: string }[] }) => (r.failed.length ? ` (${r.failed.length} could not be signalled: ${r.failed.map((f) => `${f.session}: ${f.error}`).join('; ')})` : '');

async function thaw() {
  const r = await attempt(() => getBackend().call('town.thaw', {}));
  if (r) notify(`Town thawed: ${r.sessions} session(s) continued, dispatch resumed${failures(r)}`, { kind: r.failed.length ? 'error' : 'info' });
}

export function EStopButton() {
  const frozen = useFrozen();
  const [confirming, setConfirming] = useState(false);
  if (frozen) {
    return (
      <button className="estop thaw" onClick={() => void thaw()} title="Continue every agent and gate, and resume dispatch">
        Thaw the town
      </button>
    );
  }
  if (!confirming) {
    return (
      <button className="estop danger" onClick={() => setConfirming(true)} title="Freeze every agent and gate and pause dispatch">
        E-stop
      </button>
    );
  }
  return (
    <div className="estop-confirm" role="dialog" aria-label="E-stop the town?" onKeyDown={(e) => e.key === 'Escape' && setConfirming(false)}>
      <span className="small">Freeze every agent and gate and pause dispatch?</span>
      <button
        autoFocus
        className="danger"
        onClick={async () => {
          setConfirming(false);
          const r = await attempt(() => getBackend().call('town.estop', {}));
          if (r) notify(`Town frozen: ${r.sessions} session(s) stopped${failures(r)}`, { kind: r.failed.length ? 'error' : 'info' });
        }}
      >
        Freeze the town
      </button>
      <button className="ghost" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </div>
  );
}

export function FrozenBanner() {
  const frozen = useFrozen();
  if (!frozen) return null;
  return (
    <div className="frozen-banner" role="region" aria-label="Town frozen">
      <strong>Town frozen</strong>
      <span>
        since <Ago at={frozen.since} /> · {frozen.reason} · agents and gates are stopped and nothing is dispatched
      </span>
      <button onClick={() => void thaw()}>Thaw</button>
    </div>
  );
}

interface DispatchPauseView {
  by: string;
  reason: string;
  evidence: { summary: string } | null;
  since: number;
}

/**
 * Dispatch paused while the town runs (by the overseer, or by the circuit breaker after a
 * run of failed starts): says why, with the breaker's evidence, and offers the way back.
 */
export function DispatchPausedBanner() {
  const paused = useTown((s) => s.entities.setting.get('dispatch_paused')?.value === true);
  const why = useTown((s) => (s.entities.setting.get('dispatch_paused_reason')?.value as DispatchPauseView | null | undefined) ?? null);
  const frozen = useFrozen();
  if (!paused || frozen) return null;
  const resume = () => void attempt(() => getBackend().call('town.config', { set: { dispatch_paused: 'false' } }), 'Dispatch resumed');
  return (
    <div className="frozen-banner paused-banner" role="region" aria-label="Dispatch paused">
      <strong>Dispatch paused</strong>
      <span>
        {why ? <>{why.since > 0 && <>since <Ago at={new Date(why.since).toISOString()} /> · </>}{why.reason}{why.evidence ? `: ${why.evidence.summary}` : ''}</> : 'no new work starts'} · running agents go on
      </span>
      <button onClick={resume}>Resume dispatch</button>
    </div>
  );
}
