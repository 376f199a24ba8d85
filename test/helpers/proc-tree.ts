// Processes as /proc shows them, for tests that stop a server and check that nothing of its
// tree is left: parent, state and start time (pids are reused).
import fs from 'node:fs';

export function stat(pid: number): { ppid: number; state: string; start: string } | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], ppid: Number(f[1]), start: f[19] };
  } catch {
    return null;
  }
}

/** Every process below `root` (and root), with its start time. */
export function treeOf(root: number): Map<number, string> {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(d)]);
  }
  const tree = new Map<number, string>();
  for (const queue = [root]; queue.length; ) {
    const pid = queue.shift()!;
    const s = stat(pid);
    if (s) tree.set(pid, s.start);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** Still running: there, not a zombie, and the same process (start time). */
export const running = (pid: number, start: string) => {
  const s = stat(pid);
  return !!s && s.state !== 'Z' && s.start === start;
};

export const cmdline = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '?';
  }
};

/** What of `tree` still runs, one line each, for a failure message. */
export const leftRunning = (tree: Map<number, string>) =>
  [...tree].filter(([pid, start]) => running(pid, start)).map(([pid]) => `${pid} ${cmdline(pid)}`);

/** SIGKILL whatever of `tree` is left (a test's cleanup). */
export function killTree(tree: Map<number, string>) {
  for (const [pid, start] of tree) {
    try {
      if (running(pid, start)) process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
