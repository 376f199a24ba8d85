// How the CLI fails: one sentence on stderr and the documented exit code
// (0 ok, 1 the engine refused, 2 usage, 3 no engine). No stack traces unless TOWN_DEBUG=1.
import { ApiError } from '../shared/errors';
import { jsonForTerminal, printable } from './printable';

export const EXIT = { refused: 1, usage: 2, noEngine: 3 } as const;
type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(message: string, readonly exitCode: ExitCode) {
    super(message);
  }
}

/** The command line itself is wrong: a missing argument, an unknown flag, a malformed value. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

const SYSTEM_REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'a file is in the way',
  EISDIR: 'it is a directory',
  ERR_FS_EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  ENAMETOOLONG: 'the path is too long',
  EADDRINUSE: 'the address is in use',
};

type SystemError = Error & { code: string; syscall: string; path?: string; address?: string };
const isSystemError = (err: unknown): err is SystemError =>
  err instanceof Error && typeof (err as SystemError).code === 'string' && typeof (err as SystemError).syscall === 'string';

/** Why a system call (fs, net) failed, in words; null for other errors. */
export function systemReason(err: unknown): string | null {
  return isSystemError(err) ? (SYSTEM_REASONS[err.code] ?? err.code) : null;
}

/** A failed system call as a sentence: what was tried, on what, and why it failed. */
function systemErrorSentence(err: SystemError): string {
  const on = err.path ? ` ${err.path}` : err.address ? ` ${err.address}` : '';
  return `cannot ${err.syscall}${on}: ${systemReason(err)}`;
}

/** What the CLI prints for a failure, and the exit code. */
export function failure(err: unknown, json: boolean): { text: string; code: number } {
  if (err instanceof CliError) return { text: `town: ${printable(err.message)}`, code: err.exitCode };
  if (err instanceof ApiError) {
    const code = err.code === 'engine_not_running' ? EXIT.noEngine : EXIT.refused;
    if (json) return { text: jsonForTerminal({ error: err.toJSON() }, 0), code };
    return { text: `town: ${printable(err.message)}${err.field ? ` [${printable(err.field)}]` : ''}`, code };
  }
  if (process.env.TOWN_DEBUG && err instanceof Error) return { text: `town: ${err.stack}`, code: EXIT.refused };
  if (isSystemError(err)) return { text: `town: ${printable(systemErrorSentence(err))}`, code: EXIT.refused };
  const message = err instanceof Error ? err.message : String(err);
  return { text: `town: unexpected error: ${printable(message.split('\n')[0])} (TOWN_DEBUG=1 shows where)`, code: EXIT.refused };
}

/** Runs a CLI entry's main: its exit code, or its failure printed (as JSON under --json) with the failure's code. */
export function runCli(main: (argv: string[]) => Promise<number>) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const { text, code } = failure(err, process.argv.includes('--json'));
      process.stderr.write(text + '\n');
      process.exitCode = code;
    },
  );
}
