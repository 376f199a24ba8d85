// The refinery's write-ahead record of a target move: written before the compare-and-swap,
// removed once the merge (and the user's checkout update) is reported. The refinery is
// its only writer; startup recovery reads what a kill left behind.
import type { Store } from '../store/store';

export interface RefineryIntent {
  rig_id: string;
  mr_id: string;
  target: string;
  from_sha: string;
  to_sha: string;
  /** The user's checkout is on the target and clean, so it follows the move. */
  follow_checkout: number;
  backup_ref: string;
  created_at: number;
}

export function recordIntent(store: Store, i: Omit<RefineryIntent, 'created_at'>) {
  store.run(
    `INSERT OR REPLACE INTO refinery_intents (rig_id, mr_id, target, from_sha, to_sha, follow_checkout, backup_ref, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    i.rig_id, i.mr_id, i.target, i.from_sha, i.to_sha, i.follow_checkout, i.backup_ref, store.now(),
  );
}

export function clearIntent(store: Store, rigId: string, mrId: string) {
  store.run('DELETE FROM refinery_intents WHERE rig_id = ? AND mr_id = ?', rigId, mrId);
}

export const pendingIntents = (store: Store) => store.all<RefineryIntent>('SELECT * FROM refinery_intents ORDER BY created_at');
