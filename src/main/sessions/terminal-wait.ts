// Is the terminal's foreground blocked reading the terminal? A session quiet for a while
// whose foreground sits in read() on its pty, or waits in epoll/poll/select for the pty
// to become readable, is waiting for a human. Works for any agent CLI without its
// cooperation: plain read() (shells, Python's input()), epoll (Node/libuv, tokio: Claude
// Code, Codex), poll/select (curses and older tools).
//
// Linux only, through /proc. macOS has no /proc: terminal-wait-ps.ts asks its `ps` for
// each foreground process's wait channel instead (`ttyin`, `select`), a coarser test.
// Terminal notifications (BEL, OSC 9/99/777) and `town signal` work on every platform.
import fs from 'node:fs';

export type TerminalReadHow = 'read' | 'epoll' | 'poll';

export interface TerminalReadEvidence {
  pid: number;
  /** The process's command name (comm), e.g. `node`, `bash`, `python3`. */
  name: string;
  /** read(): blocked on the pty; epoll: an epoll set holding the pty for input; poll: poll/select asking for the pty's input. */
  how: TerminalReadHow;
  /** The terminal, e.g. /dev/pts/3. */
  tty: string;
}

type SyscallKind = 'read' | 'epoll' | 'poll' | 'select';

// Syscall numbers of the calls a process blocks in while waiting for terminal input.
const SYSCALLS: Partial<Record<NodeJS.Architecture, Record<number, SyscallKind>>> = {
  x64: { 0: 'read', 7: 'poll', 23: 'select', 232: 'epoll', 270: 'select', 271: 'poll', 281: 'epoll', 441: 'epoll' },
  // aarch64 has no read-only poll/select/epoll_wait: only the p* variants.
  arm64: { 63: 'read', 22: 'epoll', 72: 'select', 73: 'poll', 441: 'epoll' },
};

const EPOLLIN = 0x1;
const POLLIN = 0x1;
/** Bounds on what one probe reads, so a pathological process cannot make it expensive. */
const MAX_PROCESSES = 64;
const MAX_THREADS = 128;
const MAX_POLL_FDS = 1024;

interface ProcStat {
  comm: string;
  state: string;
  pgrp: number;
  ttyNr: number;
  tpgid: number;
}

/** Parsed /proc/<pid>/stat (or a thread's), or null if it is gone. */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  // The command name may hold spaces and parentheses: the fields resume after the last ')'.
  const f = text.slice(close + 2).split(' ');
  return { comm: text.slice(open + 1, close), state: f[0], pgrp: Number(f[2]), ttyNr: Number(f[4]), tpgid: Number(f[5]) };
}

/** /dev/pts/N from a stat tty_nr (Linux's encoding of the controlling terminal's device), or null. */
export function ptsPath(ttyNr: number): string | null {
  const major = (ttyNr >> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
  // Unix98 pty slaves: majors 136-143.
  if (major < 136 || major > 143) return null;
  return `/dev/pts/${(major - 136) * 256 + minor}`;
}

/** The syscall a blocked thread sits in (from /proc/<pid>/task/<tid>/syscall), or null while it runs. */
export function parseSyscall(text: string): { nr: number; args: bigint[] } | null {
  const parts = text.trim().split(' ');
  if (parts.length < 3 || parts[0] === 'running' || parts[0] === '-1') return null;
  const nr = Number(parts[0]);
  if (!Number.isInteger(nr)) return null;
  try {
    return { nr, args: parts.slice(1, 7).map((a) => BigInt(a)) };
  } catch {
    return null;
  }
}

/** Target fds registered for input in an epoll fd's fdinfo (`tfd: N events: HEX ...`). */
export function epollInputFds(fdinfo: string): number[] {
  const fds: number[] = [];
  for (const m of fdinfo.matchAll(/^tfd:\s*(\d+)\s+events:\s*([0-9a-f]+)/gm)) {
    if (Number.parseInt(m[2], 16) & EPOLLIN) fds.push(Number(m[1]));
  }
  return fds;
}

const read = (file: string): string | null => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};
const stat = (path: string): ProcStat | null => {
  const text = read(`${path}/stat`);
  return text === null ? null : parseStat(text);
};

/** Reads `length` bytes of a process's memory, or null (gone, or not ours to read). */
function readMemory(pid: number, address: bigint, length: number): Buffer | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(`/proc/${pid}/mem`, 'r');
    const buf = Buffer.alloc(length);
    const n = fs.readSync(fd, buf, 0, length, address);
    return n === length ? buf : null;
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** The fds poll()/ppoll() waits on for input, read from the caller's pollfd array. */
function polledInputFds(pid: number, fdsPtr: bigint, nfds: bigint): number[] {
  const n = Number(nfds);
  if (n <= 0 || n > MAX_POLL_FDS) return [];
  const buf = readMemory(pid, fdsPtr, n * 8);
  if (!buf) return [];
  const fds: number[] = [];
  // struct pollfd { int fd; short events; short revents; }, little-endian on x86_64 and aarch64.
  for (let i = 0; i < n; i++) if (buf.readInt16LE(i * 8 + 4) & POLLIN) fds.push(buf.readInt32LE(i * 8));
  return fds;
}

/** The fds select()/pselect6() waits on for input, read from the caller's readfds bitmap. */
function selectedInputFds(pid: number, nfds: bigint, readfds: bigint): number[] {
  const n = Number(nfds);
  if (readfds === 0n || n <= 0 || n > MAX_POLL_FDS) return [];
  const buf = readMemory(pid, readfds, Math.ceil(n / 64) * 8);
  if (!buf) return [];
  const fds: number[] = [];
  for (let fd = 0; fd < n; fd++) if (buf[fd >> 3] & (1 << (fd & 7))) fds.push(fd);
  return fds;
}

/**
 * Whether `pid`'s `fd` is the terminal, by device number: inside a sandbox's own mount
 * namespace (bwrap's --dev) the same pty reads back as /dev/console, not /dev/pts/N.
 */
function isTerminalFd(pid: number, fd: number, ttyNr: number): boolean {
  try {
    const st = fs.statSync(`/proc/${pid}/fd/${fd}`);
    return st.isCharacterDevice() && st.rdev === ttyNr;
  } catch {
    return false;
  }
}

/** How one blocked thread waits for the terminal's input, or null if it does not. */
function threadWaitsOn(pid: number, tid: string, ttyNr: number, kinds: Record<number, SyscallKind>): TerminalReadHow | null {
  const task = `/proc/${pid}/task/${tid}`;
  const before = read(`${task}/syscall`);
  const call = before === null ? null : parseSyscall(before);
  const kind = call ? kinds[call.nr] : undefined;
  if (!call || !kind) return null;
  const [a0, a1] = call.args;
  const isTty = (fd: number) => isTerminalFd(pid, fd, ttyNr);
  let how: TerminalReadHow | null = null;
  if (kind === 'read') how = isTty(Number(a0)) ? 'read' : null;
  else if (kind === 'epoll') {
    const fdinfo = read(`/proc/${pid}/fdinfo/${Number(a0)}`);
    how = fdinfo !== null && epollInputFds(fdinfo).some(isTty) ? 'epoll' : null;
  } else if (kind === 'poll') how = polledInputFds(pid, a0, a1).some(isTty) ? 'poll' : null;
  else how = selectedInputFds(pid, a0, a1).some(isTty) ? 'poll' : null;
  if (!how) return null;
  // Still asleep in the same call: what we read above was not from a call it has since left.
  if (stat(task)?.state !== 'S' || read(`${task}/syscall`) !== before) return null;
  return how;
}

/** Processes of the foreground group, found from the session leader and the group leader. */
function foregroundGroup(leaderPid: number, tpgid: number): { pid: number; stat: ProcStat }[] {
  const members: { pid: number; stat: ProcStat }[] = [];
  const seen = new Set<number>();
  const queue = [tpgid, leaderPid];
  let walkable = true;
  while (queue.length > 0 && seen.size < MAX_PROCESSES) {
    const pid = queue.shift()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const st = stat(`/proc/${pid}`);
    if (!st) continue;
    if (st.pgrp === tpgid && st.state !== 'Z' && st.state !== 'X') members.push({ pid, stat: st });
    let tids: string[] = [];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`).slice(0, MAX_THREADS);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const children = read(`/proc/${pid}/task/${tid}/children`);
      if (children === null) {
        walkable = false;
        break;
      }
      for (const c of children.split(' ')) if (c) queue.push(Number(c));
    }
    if (!walkable) break;
  }
  if (walkable) return members;
  // Kernels without CONFIG_PROC_CHILDREN: one pass over /proc (about 20 µs a process).
  const all: { pid: number; stat: ProcStat }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (entry.charCodeAt(0) > 57) continue;
    const st = stat(`/proc/${entry}`);
    if (st && st.pgrp === tpgid && st.state !== 'Z' && st.state !== 'X') all.push({ pid: Number(entry), stat: st });
    if (all.length >= MAX_PROCESSES) break;
  }
  // The group leader first: it is the likeliest reader.
  return all.sort((a, b) => (a.pid === tpgid ? -1 : b.pid === tpgid ? 1 : 0));
}

/**
 * Whether a process of the terminal's foreground group is blocked waiting for input from
 * the session's terminal. `leaderPid` is the session leader (the PTY's child); `tty` its
 * pty, taken from the leader's controlling terminal when not given. Never throws:
 * processes that vanish mid-probe make it return null.
 */
export function probeTerminalRead(leaderPid: number, tty?: string): TerminalReadEvidence | null {
  if (process.platform !== 'linux') return null;
  const kinds = SYSCALLS[process.arch];
  if (!kinds) return null;
  try {
    const leader = stat(`/proc/${leaderPid}`);
    if (!leader || leader.tpgid <= 0) return null;
    const terminal = tty ?? ptsPath(leader.ttyNr);
    if (!terminal) return null;
    const group = foregroundGroup(leaderPid, leader.tpgid);
    // Something in the foreground is running (or in uninterruptible I/O): it is working, not waiting.
    if (group.some((m) => m.stat.state === 'R' || m.stat.state === 'D')) return null;
    // Stopped (SIGSTOP by an e-stop, or ^Z): frozen, not waiting for a human.
    if (group.some((m) => m.stat.state === 'T' || m.stat.state === 't')) return null;
    for (const { pid, stat: st } of group) {
      let tids: string[];
      try {
        tids = fs.readdirSync(`/proc/${pid}/task`).slice(0, MAX_THREADS);
      } catch {
        continue;
      }
      // The main thread first: Node's and Python's loops wait there; tokio's reader thread is another.
      tids.sort((a, b) => (a === String(pid) ? -1 : b === String(pid) ? 1 : 0));
      for (const tid of tids) {
        const how = threadWaitsOn(pid, tid, leader.ttyNr, kinds);
        if (how) return { pid, name: st.comm, how, tty: terminal };
      }
    }
    return null;
  } catch {
    return null;
  }
}
