// The git command line, for what isomorphic-git does not do (worktrees, ref CAS,
// updating a checkout). Arguments are passed as an array: nothing goes through a shell.
import { execFile } from 'node:child_process';

export class GitError extends Error {
  constructor(readonly args: string[], readonly stderr: string, readonly exitCode: number | null) {
    super(`git ${args.join(' ')} failed: ${stderr.trim() || `exit ${exitCode}`}`);
    this.name = 'GitError';
  }
}

const GIT_ENV = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Overseer',
  GIT_AUTHOR_EMAIL: 'overseer@localhost',
  GIT_COMMITTER_NAME: 'Overseer',
  GIT_COMMITTER_EMAIL: 'overseer@localhost',
};

export function git(cwd: string, args: string[], options: { allowFail?: boolean; env?: Record<string, string> } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd, env: { ...process.env, ...GIT_ENV, ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && !options.allowFail) {
          reject(new GitError(args, String(stderr), typeof err.code === 'number' ? err.code : null));
        } else {
          resolve(String(stdout));
        }
      },
    );
  });
}

/** Exit status only: true for 0. */
export function gitOk(cwd: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, env: { ...process.env, ...GIT_ENV } }, (err) => resolve(!err));
  });
}
