// Reading a user's repository for rig commands: is it one, which branches it has.
import fs from 'node:fs';
import path from 'node:path';
import { invalid } from '../../shared/errors';
import { git, gitOk } from './git-cli';

/** The absolute path of a repository's top, or an invalid_input error naming `path`. */
export async function validateRepository(dir: string): Promise<string> {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw invalid(`${abs} is not a directory`, 'path');
  if (!fs.existsSync(path.join(abs, '.git')) || !fs.statSync(path.join(abs, '.git')).isDirectory()) {
    throw invalid(`${abs} is not the top of a git repository (no .git directory)`, 'path');
  }
  if (!(await gitOk(abs, ['rev-parse', '--git-dir']))) throw invalid(`${abs} is not a git repository git can read`, 'path');
  return abs;
}

export async function localBranches(repo: string): Promise<string[]> {
  return (await git(repo, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/'], { allowFail: true })).split('\n').filter(Boolean);
}

/** The default branch and every polecat branch, with their tips. */
export async function rigBranchTips(repo: string, defaultBranch: string): Promise<{ name: string; sha: string }[]> {
  const out = await git(repo, ['for-each-ref', '--format=%(refname:short) %(objectname)', `refs/heads/${defaultBranch}`, 'refs/heads/polecat/'], { allowFail: true });
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name, sha] = line.split(' ');
      return { name, sha };
    });
}
