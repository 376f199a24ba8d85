// A branch's tip read from the ref files, without a git process: the loose ref, then
// packed-refs. Cheap enough to poll every few seconds. A reftable repository keeps its
// refs in binary tables: there, git itself is asked.
import fs from 'node:fs';
import path from 'node:path';
import { git } from './git-cli';

/** The repository's common git dir (where branches live) for a checkout or linked worktree. */
export function commonGitDir(checkout: string): string | null {
  const dotGit = path.join(checkout, '.git');
  let gitDir: string;
  try {
    if (fs.statSync(dotGit).isDirectory()) gitDir = dotGit;
    else {
      const m = /^gitdir:\s*(.+)$/m.exec(fs.readFileSync(dotGit, 'utf8'));
      if (!m) return null;
      gitDir = path.resolve(checkout, m[1].trim());
    }
  } catch {
    return null;
  }
  try {
    return path.resolve(gitDir, fs.readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim());
  } catch {
    return gitDir;
  }
}

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** The sha `refs/heads/<branch>` points at, or null when the branch does not exist. */
export async function readBranchTip(checkout: string, branch: string): Promise<string | null> {
  const ref = `refs/heads/${branch}`;
  const dir = commonGitDir(checkout);
  if (!dir || fs.existsSync(path.join(dir, 'reftable'))) return revParse(checkout, ref);
  try {
    const loose = fs.readFileSync(path.join(dir, ref), 'utf8').trim();
    if (SHA.test(loose)) return loose;
    // A symbolic branch (rare): let git follow it.
    return revParse(checkout, ref);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
  }
  let packed: string;
  try {
    packed = fs.readFileSync(path.join(dir, 'packed-refs'), 'utf8');
  } catch {
    return null;
  }
  for (const line of packed.split('\n')) {
    const [sha, name] = line.split(' ');
    if (name === ref && sha && SHA.test(sha)) return sha;
  }
  return null;
}

async function revParse(checkout: string, ref: string): Promise<string | null> {
  return (await git(checkout, ['rev-parse', '-q', '--verify', `${ref}^{commit}`], { allowFail: true })).trim() || null;
}
