// The town's settings as `town.config` answers them. The change feed carries a `setting`
// patch for every write (from this window, another one or the CLI); each one, and every
// resync after a reconnect, reads the settings again.
import { useEffect, useState } from 'react';
import type { TownConfigView } from '../../../shared/domain';
import { getBackend, useTown } from './town-store';

export function useTownConfig(): [TownConfigView | null, (c: TownConfigView) => void] {
  const stored = useTown((s) => s.entities.setting);
  const resyncs = useTown((s) => s.resyncs);
  const [config, setConfig] = useState<TownConfigView | null>(null);
  useEffect(() => {
    let live = true;
    getBackend().call('town.config', {}).then(
      (c) => live && setConfig(c),
      () => {},
    );
    // A later read supersedes this one, whichever answers first.
    return () => {
      live = false;
    };
  }, [stored, resyncs]);
  return [config, setConfig];
}

/** Settings grouped by the first part of their key, in the order they are declared. */
export const SETTING_GROUPS = [
  { prefix: 'dispatch', title: 'Dispatch', about: 'How often a bead is tried, and when the town stops trying.' },
  { prefix: 'town', title: 'Town', about: 'Capacity and the reconciler’s clock.' },
  { prefix: 'health', title: 'Agent health', about: 'When a quiet agent is nudged, escalated or stopped, and how exits and crashes are retried.' },
  { prefix: 'escalation', title: 'Escalations', about: 'How often the same problem may reach you.' },
  { prefix: 'mail', title: 'Mail', about: 'How much mail one sender may send.' },
  { prefix: 'gc', title: 'Clean-up', about: 'What is removed when no longer used (never uncommitted work).' },
  { prefix: 'refinery', title: 'Refinery', about: 'The merge queue.' },
  { prefix: 'agents', title: 'Agents', about: 'How agent sessions run.' },
] as const;

export const groupOf = (key: string) => key.split('.')[0];
