// A town directory: its files, the one-core lock, and the overseer's token.
import { randomBytes, createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pidAlive, processStartTime } from '../sessions/process-tree';

export interface TownPaths {
  dir: string;
  db: string;
  socket: string;
  token: string;
  lock: string;
  logs: string;
  worktrees: string;
  refinery: string;
  bin: string;
}

export function townPaths(dir: string): TownPaths {
  const abs = path.resolve(dir);
  return {
    dir: abs,
    db: path.join(abs, 'town.db'),
    socket: path.join(abs, 'town.sock'),
    token: path.join(abs, 'overseer.token'),
    lock: path.join(abs, 'town.lock'),
    logs: path.join(abs, 'logs'),
    worktrees: path.join(abs, 'worktrees'),
    refinery: path.join(abs, 'refinery'),
    bin: path.join(abs, 'bin'),
  };
}

export const isTown = (dir: string) => fs.existsSync(townPaths(dir).db);

export const newToken = () => randomBytes(24).toString('base64url');
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Creates the directory layout and the overseer token (0600) if missing. */
export function ensureTownDir(p: TownPaths) {
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  for (const d of [p.logs, p.worktrees, p.refinery, p.bin]) fs.mkdirSync(d, { recursive: true });
  if (!fs.existsSync(p.token)) fs.writeFileSync(p.token, newToken() + '\n', { mode: 0o600 });
  fs.chmodSync(p.token, 0o600);
}

export function readOverseerToken(p: TownPaths): string | null {
  try {
    return fs.readFileSync(p.token, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export class TownLockedError extends Error {
  constructor(readonly dir: string, readonly pid: number) {
    super(`town ${dir} is already served by process ${pid}`);
    this.name = 'TownLockedError';
  }
}

/** One running core per town. A lock left by a dead process is taken over. */
export function acquireLock(p: TownPaths): () => void {
  const mine = JSON.stringify({ pid: process.pid, start: processStartTime(process.pid) });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(p.lock, mine, { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (fs.readFileSync(p.lock, 'utf8') === mine) fs.unlinkSync(p.lock);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder: { pid: number; start: string | null } | null = null;
      try {
        holder = JSON.parse(fs.readFileSync(p.lock, 'utf8'));
      } catch {
        holder = null;
      }
      if (holder && pidAlive(holder.pid) && processStartTime(holder.pid) === holder.start) throw new TownLockedError(p.dir, holder.pid);
      fs.rmSync(p.lock, { force: true });
    }
  }
  throw new Error(`could not take the lock ${p.lock}`);
}
