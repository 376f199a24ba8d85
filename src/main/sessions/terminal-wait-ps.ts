// The terminal-read probe where there is no /proc: macOS. Its `ps` reports each process's
// kernel wait message (kinfo_proc's e_wmesg, the BSD msleep() label): `ttyin` while blocked
// reading a terminal, `select` while in select(2). That is coarser than the Linux probe,
// which checks that the awaited fd is the session's own terminal: here a process that
// waits in select() counts whatever it selects on. The attention watch still requires a
// quiet screen first, and shows the wait channel as evidence.
//
// Which processes: the terminal's foreground group (pgid = tpgid), the same rule as on
// Linux: any of them running means working, any stopped means frozen.
import { execFile } from 'node:child_process';
import type { TerminalReadEvidence, TerminalReadHow } from './terminal-wait';

/** One process attached to the terminal, as `ps` printed it. */
export interface TerminalProcess {
  pid: number;
  pgid: number;
  /** The terminal's foreground process group. */
  tpgid: number;
  /** ps's state letters, e.g. `S+`, `Ss+`, `R+`, `T+`. */
  stat: string;
  /** The wait channel's name, `-` when it has none. */
  wchan: string;
  comm: string;
}

/** The wait channels that mean "blocked waiting for input", per platform. */
export const DARWIN_WAIT_CHANNELS: Readonly<Record<string, TerminalReadHow>> = { ttyin: 'read', select: 'poll' };

// procps cuts the wait channel to its column's width when not printing to a terminal: give
// it room. BSD ps has no width syntax; its wait messages are at most 7 characters anyway.
const COLUMNS = `pid=,pgid=,tpgid=,stat=,${process.platform === 'linux' ? 'wchan:40=' : 'wchan='},comm=`;

/** Rows of `ps -o pid=,pgid=,tpgid=,stat=,wchan=,comm=`; the command name may hold spaces. */
export function parseTerminalProcesses(text: string): TerminalProcess[] {
  const rows: TerminalProcess[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(-?\d+)\s+(\S+)\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (!m) continue;
    rows.push({ pid: Number(m[1]), pgid: Number(m[2]), tpgid: Number(m[3]), stat: m[4], wchan: m[5], comm: m[6] });
  }
  return rows;
}

/**
 * Who in the terminal's foreground group waits for input, from what `ps` saw; null when
 * nobody does, or when something there runs (R), is in uninterruptible I/O (D/U) or is
 * stopped (T: an e-stop or ^Z, frozen rather than waiting).
 */
export function foregroundReader(
  rows: TerminalProcess[],
  tty: string,
  channels: Readonly<Record<string, TerminalReadHow>>,
): TerminalReadEvidence | null {
  const tpgid = rows.find((r) => r.tpgid > 0)?.tpgid;
  if (tpgid === undefined) return null;
  const group = rows.filter((r) => r.pgid === tpgid && !r.stat.startsWith('Z'));
  if (group.length === 0) return null;
  if (group.some((r) => /^[RDUT]/.test(r.stat))) return null;
  // The group leader first: it is the likeliest reader.
  group.sort((a, b) => (a.pid === tpgid ? -1 : b.pid === tpgid ? 1 : 0));
  for (const r of group) {
    const how = channels[r.wchan];
    if (how) return { pid: r.pid, name: r.comm.split('/').pop() ?? r.comm, how, tty };
  }
  return null;
}

/** `ps` wants the terminal's name without /dev/ (Linux `pts/3`; macOS takes `ttys003`). */
export const psTerminalName = (tty: string) => tty.replace(/^\/dev\//, '');

/** Runs `ps` for the processes of one terminal; never throws (no ps, or the terminal gone: []). */
export function listTerminalProcesses(tty: string): Promise<TerminalProcess[]> {
  return new Promise((resolve) => {
    execFile('ps', ['-t', psTerminalName(tty), '-o', COLUMNS], { timeout: 2000, maxBuffer: 256 * 1024 }, (err, stdout) => {
      // ps exits 1 when it matched nothing; what it printed is still right.
      resolve(err && !stdout ? [] : parseTerminalProcesses(stdout));
    });
  });
}

/** The probe through `ps`, for a session whose terminal is `tty` (e.g. /dev/ttys003). */
export async function probeTerminalReadPs(
  tty: string,
  channels: Readonly<Record<string, TerminalReadHow>> = DARWIN_WAIT_CHANNELS,
): Promise<TerminalReadEvidence | null> {
  return foregroundReader(await listTerminalProcesses(tty), tty, channels);
}
