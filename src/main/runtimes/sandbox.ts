// The optional agent sandbox (town config agent_sandbox = bwrap): bubblewrap shows the
// agent the machine read-only, its own worktree and the git data a commit needs
// read-write, and of the town only the control socket and the `town` shim. Hidden: the
// database, logs, other worktrees, the overseer's token dir, the host's /tmp and processes.
import fs from 'node:fs';
import path from 'node:path';
import { overseerHome } from '../engine/town-dir';
import { productRoot } from '../engine/resources';

export interface SandboxTarget {
  townDir: string;
  townBin: string;
  worktree: string;
}

export class SandboxUnavailableError extends Error {}

export function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `name` on PATH, or null. */
export function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutableFile(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

/** The worktree's own git dir and the repository's shared one (`<rig>/.git`). */
function gitDirsOf(worktree: string): { own: string; common: string } {
  const dotGit = path.join(worktree, '.git');
  if (fs.statSync(dotGit).isDirectory()) return { own: dotGit, common: dotGit };
  const m = /^gitdir:\s*(.+)$/m.exec(fs.readFileSync(dotGit, 'utf8'));
  if (!m) throw new SandboxUnavailableError(`${dotGit} does not name a git dir`);
  const own = path.resolve(worktree, m[1].trim());
  let common = own;
  try {
    common = path.resolve(own, fs.readFileSync(path.join(own, 'commondir'), 'utf8').trim());
  } catch {
    // a plain git dir
  }
  return { own, common };
}

/** bubblewrap's arguments for one agent; order matters (later mounts go on top). */
export function bwrapArgs(t: SandboxTarget): string[] {
  const git = gitDirsOf(t.worktree);
  const socket = path.join(t.townDir, 'town.sock');
  const args = [
    '--die-with-parent',
    '--unshare-pid', // other processes (and their environments) out of sight
    '--cap-drop', 'ALL', // run by root, bwrap would keep every capability (and remount / rw)
    '--ro-bind', '/', '/',
    '--dev', '/dev', // no other agent's terminal under /dev/pts
    '--proc', '/proc',
    '--tmpfs', '/tmp',
  ];
  const home = overseerHome();
  if (fs.existsSync(home)) args.push('--tmpfs', home);
  args.push('--tmpfs', t.townDir);
  args.push('--ro-bind', t.townBin, t.townBin);
  if (fs.existsSync(socket)) args.push('--bind', socket, socket);
  // The installation (the CLI the shim runs) may live under a hidden path, e.g. /tmp.
  args.push('--ro-bind-try', productRoot(), productRoot());
  // A commit writes objects, the branch's ref and reflog, and the worktree's index and
  // HEAD; the repository's config and hooks stay read-only.
  args.push('--ro-bind', git.common, git.common);
  for (const sub of ['objects', 'refs', 'logs']) {
    const d = path.join(git.common, sub);
    if (fs.existsSync(d)) args.push('--bind', d, d);
  }
  if (git.own !== git.common) args.push('--bind', git.own, git.own);
  args.push('--bind', t.worktree, t.worktree, '--chdir', t.worktree);
  return args;
}

/** Wraps a command line in bubblewrap, or explains why it cannot be. */
export function inBwrap(file: string, args: string[], target: SandboxTarget): { file: string; args: string[] } {
  const bwrap = findOnPath('bwrap');
  if (!bwrap) {
    throw new SandboxUnavailableError('agent_sandbox is bwrap but bubblewrap (bwrap) is not on PATH: install it, or run `town config set agents.sandbox none`');
  }
  return { file: bwrap, args: [...bwrapArgs(target), '--', file, ...args] };
}
