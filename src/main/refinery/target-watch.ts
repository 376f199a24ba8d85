// Invariant 7: a target branch moves only by the refinery's compare-and-swap. The store
// knows the tip the refinery last set or acknowledged (store/target-tips.ts); the tip on
// disk is read cheaply (git/branch-tip.ts) every few seconds and before each merge. A tip
// that differs was moved by someone else: reported once, as a fast-forward (a user's
// commit: information) or a rewrite (commits dropped: high when the refinery merged them),
// then adopted as known. A move the refinery is in the middle of (its intent is on disk)
// is never reported: finishMerge, or recovery after a kill, adopts it.
import type { EventPayloadInput } from '../../shared/events';
import { readBranchTip } from '../git/ref-files';
import { git, gitOk } from '../git/git-cli';
import { REFINERY_EMAIL } from '../git/merge';
import { Repeating } from '../engine/repeating';
import type { Clock } from '../reconciler/clock';
import { refineryAgentId } from '../store/rigs';
import type { Store } from '../store/store';
import { knownTip, setKnownTip } from '../store/target-tips';

export const TARGET_WATCH_MS = 5_000;
const MAX_DROPPED_LISTED = 20;

type OutsideMove = EventPayloadInput<'rig.target_moved_outside'>;
interface Watched {
  rig_id: string;
  path: string;
  target: string;
}

/** How `from` became `to`: built on (fast-forward) or replaced (rewrite), with what was dropped. */
export async function classifyMove(repo: string, rigId: string, target: string, from: string, to: string): Promise<OutsideMove> {
  const fastForward = await gitOk(repo, ['merge-base', '--is-ancestor', from, to]);
  const added = Number((await git(repo, ['rev-list', '--count', `${from}..${to}`], { allowFail: true })).trim()) || 0;
  const dropped = fastForward
    ? []
    : (await git(repo, ['log', `--max-count=${MAX_DROPPED_LISTED}`, '--format=%H%x09%ce%x09%s', `${to}..${from}`], { allowFail: true }))
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [sha, email, ...subject] = l.split('\t');
          return { sha: sha!, subject: subject.join('\t'), refinery: email === REFINERY_EMAIL };
        });
  const droppedCount = fastForward ? 0 : Number((await git(repo, ['rev-list', '--count', `${to}..${from}`], { allowFail: true })).trim()) || dropped.length;
  return { rig: rigId, target, from, to, kind: fastForward ? 'fast-forward' : 'rewrite', added, dropped_count: droppedCount, dropped };
}

/** Both reads of the store a check relies on; compared before and after its git reads. */
function storeView(store: Store, rigId: string, target: string): string {
  const intents = store.all<{ mr_id: string }>('SELECT mr_id FROM refinery_intents WHERE rig_id = ? AND target = ?', rigId, target);
  return JSON.stringify([knownTip(store, rigId, target)?.sha ?? null, intents.map((i) => i.mr_id)]);
}

function recordOutsideMove(store: Store, move: OutsideMove) {
  setKnownTip(store, move.rig, move.target, move.to, 'outside');
  store.event({ type: 'rig.target_moved_outside', agent: refineryAgentId(move.rig), payload: move, pending: true });
}

/** Checks one target: reports and adopts an outside move, or takes a first look as the baseline. */
async function checkTarget(store: Store, w: Watched): Promise<void> {
  const before = storeView(store, w.rig_id, w.target);
  const tip = await readBranchTip(w.path, w.target);
  if (!tip || storeView(store, w.rig_id, w.target) !== before) return; // the refinery moved meanwhile: next round
  if (JSON.parse(before)[1].length > 0) return; // mid-move: finishMerge or recovery adopts it
  const known = knownTip(store, w.rig_id, w.target);
  if (!known) return void store.transaction(() => setKnownTip(store, w.rig_id, w.target, tip, 'baseline'));
  if (known.sha === tip) return;
  const move = await classifyMove(w.path, w.rig_id, w.target, known.sha, tip);
  if (storeView(store, w.rig_id, w.target) !== before) return;
  store.transaction(() => recordOutsideMove(store, move));
}

// One check at a time per store: the timer's and a merge's own must not report a move twice.
const queues = new WeakMap<Store, Promise<void>>();

/** Checks every rig's target branches (or one rig's): serialised with every other check. */
export function checkTargets(store: Store, rigId?: string): Promise<void> {
  const run = async () => {
    const watched = store.all<Watched>(
      `SELECT id AS rig_id, path, default_branch AS target FROM rigs ${rigId ? 'WHERE id = ?' : ''}
       UNION SELECT t.rig_id, r.path, t.target FROM target_tips t JOIN rigs r ON r.id = t.rig_id ${rigId ? 'WHERE r.id = ?' : ''}`,
      ...(rigId ? [rigId, rigId] : []),
    );
    for (const w of watched) await checkTarget(store, w);
  };
  const next = (queues.get(store) ?? Promise.resolve()).then(run, run);
  queues.set(store, next.catch(() => {}));
  return next;
}

/**
 * For finishMerge, before its transaction: the refinery moved `target` from `from` to `to`.
 * If the tip it knew was not `from`, someone moved the branch before the refinery built on
 * it; that move is classified now and reported by the returned writer, which also records
 * `to` as the known tip. The writer runs inside finishMerge's transaction.
 */
export async function refineryMoveAdoption(store: Store, repo: string, rigId: string, target: string, from: string, to: string): Promise<() => void> {
  const known = knownTip(store, rigId, target);
  const outside = known && known.sha !== from && known.sha !== to ? await classifyMove(repo, rigId, target, known.sha, from).catch(() => null) : null;
  return () => {
    const now = knownTip(store, rigId, target);
    if (outside && now && now.sha !== from && now.sha !== to) recordOutsideMove(store, outside);
    setKnownTip(store, rigId, target, to, 'refinery');
  };
}

/** The timer: every TARGET_WATCH_MS, all rigs. */
export class TargetWatch {
  private readonly rounds: Repeating;

  constructor(store: Store, clock: Clock, log: (line: string) => void) {
    this.rounds = new Repeating(clock, TARGET_WATCH_MS, () => checkTargets(store).catch((err: Error) => log(`target watch: ${err.message}`)));
  }

  start() {
    this.rounds.start();
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }
}
