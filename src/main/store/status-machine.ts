// Status columns change only through a table of allowed transitions, owned by the one
// writer module of each entity. A forbidden transition is a thrown error, never a
// silent overwrite (two code paths writing one status is how earlier systems broke).
import { ApiError } from '../../shared/errors';

/** For each status, the statuses it may move to. */
export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

export class ForbiddenTransitionError extends ApiError {
  constructor(
    readonly entity: string,
    readonly id: string,
    readonly from: string,
    readonly to: string,
  ) {
    super('conflict', `${entity} ${id} cannot go from ${from} to ${to}`, 'status');
    this.name = 'ForbiddenTransitionError';
  }
}

export function canTransition<S extends string>(table: TransitionTable<S>, from: S, to: S): boolean {
  return table[from]?.includes(to) ?? false;
}

export function assertTransition<S extends string>(entity: string, id: string, table: TransitionTable<S>, from: S, to: S) {
  if (!canTransition(table, from, to)) throw new ForbiddenTransitionError(entity, id, from, to);
}

/** Every (from, to) pair a table forbids: what the writers' tests try. */
export function forbiddenPairs<S extends string>(table: TransitionTable<S>): [S, S][] {
  const all = Object.keys(table) as S[];
  return all.flatMap((from) => all.filter((to) => !table[from].includes(to)).map((to) => [from, to] as [S, S]));
}
