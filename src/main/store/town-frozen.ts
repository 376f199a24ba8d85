// The town's e-stop state, kept as a setting so a restart stays frozen. Written by
// engine/town-freeze.ts, read by the reconciler (dispatch paused) and the status views.
import type { FrozenView } from '../../shared/domain';
import type { Store } from './store';

export const FROZEN_SETTING = 'town_frozen';

export function frozenState(store: Store): FrozenView | null {
  return store.setting<FrozenView | null>(FROZEN_SETTING, null);
}
