// Test helpers: temp towns, real repos, a real `town serve` process and the real CLI.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { townPaths } from '../../src/main/engine/town-dir';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'out', 'cli', 'town.cjs');

const made: string[] = [];
export function tempDir(label = 'town'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ov-${label}-`));
  made.push(dir);
  return dir;
}
export function removeTempDirs() {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 45_000, stepMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of an overseer's shell: none of the variables that mark an agent session. */
export function overseerEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !['TOWN_AGENT', 'TOWN_TOKEN', 'TOWN_GATE', 'TOWN_BEAD'].includes(k)) env[k] = v;
  return { ...env, ...extra };
}

/** The overseer's token of a town (kept in $OVERSEER_HOME, a temp dir in tests). */
export function overseerToken(dir: string): string {
  return fs.readFileSync(townPaths(dir).token, 'utf8').trim();
}

/** Runs the real `town` CLI. */
export function town(dir: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    // A CLI call that hangs is a failure to see, not a test that times out without a word.
    execFile(process.execPath, [CLI, '--town', dir, ...args], { env: overseerEnv(env), maxBuffer: 64 * 1024 * 1024, timeout: 30_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const hung = err && (err as { killed?: boolean }).killed ? `\n(town ${args.join(' ')} did not finish in 30 s and was killed)` : '';
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) + hung });
    });
  });
}

/** `town --json ...`, parsed; throws with stderr on failure. */
export async function townJson<T = any>(dir: string, ...args: string[]): Promise<T> {
  const r = await town(dir, [...args, '--json']);
  if (r.code !== 0) throw new Error(`town ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** What a town looked like, for a failure message: its beads, MRs and latest events. */
export async function townDiagnosis(dir: string): Promise<string> {
  const safe = async (args: string[]) => {
    const r = await town(dir, [...args, '--json']);
    return r.code === 0 ? JSON.parse(r.stdout) : [];
  };
  const beads: any[] = await safe(['bead', 'list']);
  const mrs: any[] = await safe(['mr', 'list']);
  const events: any[] = await safe(['events', '--limit', '10000']);
  const line = (e: any) => `${e.seq} ${e.type} ${e.bead ?? ''} ${e.agent ?? ''} ${JSON.stringify(e.payload).slice(0, 300)}`;
  return [
    ...beads.map((b) => `bead ${b.id} ${b.status} attempts ${b.dispatch_attempts} ${b.close_reason ?? ''}`),
    ...mrs.map((m) => `mr ${m.id} ${m.bead} ${m.state} ${m.blocked_reason ?? ''} ${m.failure ? JSON.stringify(m.failure).slice(0, 300) : ''}`),
    ...events.slice(-60).map(line),
    // The whole story of each bead still not closed, however early it began.
    ...beads.filter((b) => b.status !== 'closed').flatMap((b) => [`--- ${b.id} from the start ---`, ...events.filter((e) => e.bead === b.id).map(line)]),
  ].join('\n');
}

export const FAST_AGENTS = { TOWN_SCRIPTED_PACE_MS: '15' };

export class ServeExitedError extends Error {
  constructor(readonly how: number | string | null, log: string) {
    super(`town serve exited before it served (${how}):\n${log}`);
  }
}

export class ServedTown {
  child: ChildProcess | null = null;
  log = '';
  /** The signal that ended the last stop, when it was one (the engine catches SIGTERM and exits 0). */
  exitSignal: NodeJS.Signals | null = null;
  constructor(readonly dir: string, private readonly env: Record<string, string> = FAST_AGENTS) {}

  /** The web UI's URL with its token, as `town serve` printed it (last, if started again). */
  get url(): string {
    const m = [...this.log.matchAll(/open\s+(http:\/\/\S+)/g)].pop();
    if (!m) throw new Error(`town serve printed no URL:\n${this.log}`);
    return m[1];
  }

  /** Runs `town serve` (with `args`, e.g. `--port N`) until it says it serves. */
  async start(args: string[] = []): Promise<void> {
    const child = spawn(process.execPath, [CLI, 'serve', '--town', this.dir, ...args], {
      env: overseerEnv(this.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (d) => (this.log += d));
    child.stderr!.on('data', (d) => (this.log += d));
    const died = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new ServeExitedError(code ?? signal, this.log))));
    died.catch(() => {});
    // Its last line, not "serving ": a notice on stderr ("… serving on port N instead") says that too, and comes first.
    await Promise.race([waitFor('town serve to listen', () => this.log.includes('stop with Ctrl-C'), 20_000, 25), died]);
  }

  /** Resolves when the engine process has exited (killed, crashed or stopped). */
  exited(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((r) => child.once('exit', () => r()));
  }

  /** A crash: SIGKILL, no shutdown path runs. Agents lose their PTY as they would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const gone = this.exited();
    child.kill('SIGKILL');
    await gone;
    this.child = null;
  }

  /** SIGTERM and wait for a clean exit; returns the exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (child && child.signalCode !== null) {
      this.child = null;
      return null;
    }
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) =>
      child.once('exit', (code, signal) => {
        this.exitSignal = signal;
        r(code);
      }),
    );
    child.kill('SIGTERM');
    const code = await exited;
    this.child = null;
    // TOWN_TEST_DUMP=DIR keeps what `town serve` printed and the town's event log, to study a failure.
    const dumpDir = process.env.TOWN_TEST_DUMP;
    if (dumpDir) {
      const events = await new Promise<string>((r) => execFile(process.execPath, [CLI, 'events', '--town', this.dir], (_e, out) => r(String(out))));
      fs.mkdirSync(dumpDir, { recursive: true });
      fs.writeFileSync(path.join(dumpDir, `${path.basename(path.dirname(this.dir))}-${path.basename(this.dir)}.log`), `${this.log}\n--- events ---\n${events}`);
    }
    return code;
  }
}

/** Live processes started as agents of this town (found via /proc, by environment). */
export function agentProcessesOf(townDir: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (env.split('\0').includes(`TOWN_DIR=${townDir}`)) found.push(Number(entry));
    } catch {
      // gone or not ours
    }
  }
  return found;
}
