// Reading a repository's branches from its files (loose refs and packed-refs) instead of
// starting git: each git process is ~8 ms on the start's path. Every reader returns null
// when the layout is not the plain files one (a reftable repository, a bare one): then the
// caller asks git.
import fs from 'node:fs';
import path from 'node:path';
import { git } from './git-cli';

/** The git dir shared by every worktree of the repository at `repo` (its `.git`), or null. */
export function commonGitDir(repo: string): string | null {
  const dotGit = path.join(repo, '.git');
  let gitDir: string;
  try {
    if (fs.statSync(dotGit).isDirectory()) gitDir = dotGit;
    else {
      const m = /^gitdir:\s*(.+)$/m.exec(fs.readFileSync(dotGit, 'utf8'));
      if (!m) return null;
      gitDir = path.resolve(repo, m[1].trim());
    }
  } catch {
    return null;
  }
  const commondir = path.join(gitDir, 'commondir');
  const common = fs.existsSync(commondir) ? path.resolve(gitDir, fs.readFileSync(commondir, 'utf8').trim()) : gitDir;
  return fs.existsSync(path.join(common, 'reftable')) ? null : common;
}

/** Branches under `prefix` (e.g. `polecat/`), by short name, with the commit each names. */
export function readBranches(repo: string, prefix: string): Map<string, string> | null {
  const common = commonGitDir(repo);
  if (!common) return null;
  const found = new Map<string, string>();
  const full = `refs/heads/${prefix}`;
  // Packed first: a loose ref overrides its packed copy.
  let packed = '';
  try {
    packed = fs.readFileSync(path.join(common, 'packed-refs'), 'utf8');
  } catch {
    // none packed
  }
  for (const line of packed.split('\n')) {
    if (line.length < 42 || line[0] === '#' || line[0] === '^') continue;
    const ref = line.slice(41);
    if (ref.startsWith(full)) found.set(ref.slice('refs/heads/'.length), line.slice(0, 40));
  }
  const walk = (dir: string, name: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // no such directory, or removed while read
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(path.join(dir, e.name), `${name}${e.name}/`);
      else if (e.isFile() && !e.name.endsWith('.lock')) {
        const sha = readLoose(path.join(dir, e.name));
        if (sha) found.set(`${name}${e.name}`, sha);
      }
    }
  };
  walk(path.join(common, 'refs', 'heads', ...prefix.split('/').filter(Boolean)), prefix.endsWith('/') || !prefix ? prefix : `${prefix}/`);
  return found;
}

function readLoose(file: string): string | null {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    return /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(text) ? text : null;
  } catch {
    return null;
  }
}

/** The commit a branch names: undefined when the files cannot say (ask git), null when absent. */
export function readBranch(repo: string, branch: string): string | null | undefined {
  const common = commonGitDir(repo);
  if (!common) return undefined;
  const loose = path.join(common, 'refs', 'heads', ...branch.split('/'));
  if (fs.existsSync(loose)) return readLoose(loose) ?? undefined; // a symbolic ref: git knows
  const found = readBranches(repo, branch);
  return found?.get(branch) ?? null;
}

/**
 * The commit a branch names, from the files when they can say, else from git (a reftable
 * repository, a symbolic ref); null when the branch does not exist. Cheap enough to poll.
 */
export async function readBranchTip(repo: string, branch: string): Promise<string | null> {
  const tip = readBranch(repo, branch);
  if (tip !== undefined) return tip;
  return (await git(repo, ['rev-parse', '-q', '--verify', `refs/heads/${branch}^{commit}`], { allowFail: true })).trim() || null;
}
