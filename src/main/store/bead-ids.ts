// Bead ids: `<prefix>-<base36>`. Short while the town is small, longer as it grows,
// so ids stay typeable without collisions becoming likely.
import { randomInt } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Length of the random part for a town holding `beadCount` beads (4 → 5 → 6). */
export function beadIdLength(beadCount: number): number {
  if (beadCount < 2_000) return 4;
  if (beadCount < 60_000) return 5;
  return 6;
}

export function randomBase36(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(36)];
  return out;
}

/** A fresh id, retried on collision; grows one character if a length keeps colliding. */
export function newBeadId(prefix: string, beadCount: number, exists: (id: string) => boolean): string {
  let length = beadIdLength(beadCount);
  for (let attempt = 0; ; attempt++) {
    const id = `${prefix}-${randomBase36(length)}`;
    if (!exists(id)) return id;
    if (attempt > 0 && attempt % 8 === 0) length++;
  }
}
