// Processes in fresh PTYs for probe tests: each in its own temp dir, its output collected,
// and every one of them (with its process group) killed after each test.
import * as pty from 'node-pty';
import { afterEach } from 'vitest';
import { removeTempDirs, tempDir } from './town';

export interface PtyProc {
  p: pty.IPty;
  /** What it printed so far. */
  out: { text: string };
  /** Its terminal, e.g. /dev/pts/3. */
  tty: string;
}

/** Registers the cleanup in the calling test file; returns how to start a process. */
export function ptyProcs(label: string): (file: string, args: string[]) => PtyProc {
  const procs: pty.IPty[] = [];
  afterEach(() => {
    for (const p of procs.splice(0)) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    removeTempDirs();
  });
  return (file, args) => {
    const p = pty.spawn(file, args, { cols: 80, rows: 24, cwd: tempDir(label), env: process.env as Record<string, string> });
    procs.push(p);
    const out = { text: '' };
    p.onData((d) => (out.text += d));
    return { p, out, tty: (p as pty.IPty & { ptsName: string }).ptsName };
  };
}
