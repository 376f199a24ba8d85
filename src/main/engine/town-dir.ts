// A town directory: its files, the one-core lock, the overseer's token and the web token.
import { randomBytes, createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pidAlive, processStartTime } from '../sessions/process-tree';

export interface TownPaths {
  dir: string;
  db: string;
  socket: string;
  /** The overseer's token: outside the town dir, which every agent is pointed at. */
  token: string;
  /** The web UI's token (in the URL `town serve` prints, then a cookie), beside the overseer's. */
  webToken: string;
  /** Where `town serve` last listened (not secret), so a restart can listen there again. */
  webAddress: string;
  lock: string;
  logs: string;
  worktrees: string;
  refinery: string;
  bin: string;
}

/** The per-user state dir: `$OVERSEER_HOME`, else `~/.overseer`. */
export const overseerHome = () => path.resolve(process.env.OVERSEER_HOME || path.join(os.homedir(), '.overseer'));
export const overseerTokenDir = () => path.join(overseerHome(), 'tokens');

/** The real path of a directory that may not exist yet (its nearest existing ancestor, resolved). */
function realPathOf(abs: string): string {
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realPathOf(parent), path.basename(abs));
  }
}

/** The token files of a town share a stem named for its real path (the name only helps humans). */
function tokenStem(abs: string): string {
  const real = realPathOf(abs);
  const id = createHash('sha256').update(real).digest('hex').slice(0, 16);
  const name = path.basename(real).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40);
  return path.join(overseerTokenDir(), `${name}-${id}`);
}

export function townPaths(dir: string): TownPaths {
  const abs = path.resolve(dir);
  const stem = tokenStem(abs);
  return {
    dir: abs,
    db: path.join(abs, 'town.db'),
    socket: path.join(abs, 'town.sock'),
    token: `${stem}.token`,
    webToken: `${stem}.web-token`,
    webAddress: path.join(abs, 'web-address.json'),
    lock: path.join(abs, 'town.lock'),
    logs: path.join(abs, 'logs'),
    worktrees: path.join(abs, 'worktrees'),
    refinery: path.join(abs, 'refinery'),
    bin: path.join(abs, 'bin'),
  };
}

/** Where towns before 0.1 kept the overseer token, inside the town dir. */
const legacyTokenFile = (p: TownPaths) => path.join(p.dir, 'overseer.token');

export const isTown = (dir: string) => fs.existsSync(townPaths(dir).db);

export const newToken = () => randomBytes(24).toString('base64url');
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** chmod to `mode` if `file` allows more than it; returns what it did, for the user. */
function tighten(file: string, mode: number): string | null {
  const was = fs.statSync(file).mode & 0o777;
  if ((was & ~mode) === 0) return null;
  fs.chmodSync(file, was & mode);
  return `tightened ${file} to 0${(was & mode).toString(8)} (was 0${was.toString(8)})`;
}

/**
 * Creates the directory layout and the overseer token (0600) if missing, and tightens
 * an existing town that other users could read. Returns a line per change made.
 */
export function ensureTownDir(p: TownPaths): string[] {
  const notes: string[] = [];
  const note = (n: string | null) => n && notes.push(n);
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  note(tighten(p.dir, 0o700));
  for (const d of [p.logs, p.worktrees, p.refinery, p.bin]) {
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    note(tighten(d, 0o700));
  }
  const tokens = path.dirname(p.token);
  if (!fs.existsSync(tokens)) {
    fs.mkdirSync(overseerHome(), { recursive: true, mode: 0o700 });
    fs.mkdirSync(tokens, { recursive: true, mode: 0o700 });
  }
  note(tighten(tokens, 0o700));
  note(migrateLegacyToken(p));
  return notes;
}

/**
 * Creates the overseer token if missing. Called with the town's lock held, so a process that
 * cannot see a serving engine's token never writes a second one beside it.
 */
export function ensureOverseerToken(p: TownPaths) {
  ensureTokenFile(p.token);
}

/**
 * The web UI's token, created if missing; the same on every `town serve`, so the cookie of a
 * tab left open stays valid across an engine restart. Called with the town's lock held.
 */
export function ensureWebToken(p: TownPaths): string {
  return ensureTokenFile(p.webToken);
}

function ensureTokenFile(file: string): string {
  let token = '';
  try {
    token = fs.readFileSync(file, 'utf8').trim();
  } catch {
    // not made yet
  }
  if (!token) {
    token = newToken();
    fs.writeFileSync(file, token + '\n', { mode: 0o600 });
  }
  fs.chmodSync(file, 0o600);
  return token;
}

/** Moves a token kept in the town dir (where agents look) to the per-user state dir. */
function migrateLegacyToken(p: TownPaths): string | null {
  const legacy = legacyTokenFile(p);
  let value: string;
  try {
    value = fs.readFileSync(legacy, 'utf8').trim();
  } catch {
    return null;
  }
  fs.mkdirSync(path.dirname(p.token), { recursive: true, mode: 0o700 });
  if (value && !fs.existsSync(p.token)) fs.writeFileSync(p.token, value + '\n', { mode: 0o600 });
  fs.rmSync(legacy, { force: true });
  return `moved the overseer token from ${legacy} to ${p.token}`;
}

export function readOverseerToken(p: TownPaths): string | null {
  if (fs.existsSync(p.db)) migrateLegacyToken(p);
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

/** One running core per town. A lock left by a dead (or zombie) process is taken over. */
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
