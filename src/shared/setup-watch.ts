// Which files the refinery watches to know its worktree needs the rig's setup again.
// Lockfiles, not manifests: a lockfile states exactly what is installed, and every
// dependency change a project commits changes it; a manifest (package.json, Cargo.toml)
// also changes for version bumps and scripts, which would re-run an install on most
// release commits. A project that commits no lockfile names its manifest instead.

export const DEFAULT_SETUP_WATCH: readonly string[] = [
  'package-lock.json',
  'pnpm-lock.yaml',
  'yarn.lock',
  'requirements*.txt',
  'poetry.lock',
  'uv.lock',
  'Cargo.lock',
  'go.sum',
];

/** The rig's list (a JSON column), or the default when it has none. */
export function setupWatchOf(rig: { setup_watch: string | null }): string[] {
  return rig.setup_watch === null ? [...DEFAULT_SETUP_WATCH] : (JSON.parse(rig.setup_watch) as string[]);
}

/**
 * A glob as a test on a repository path. Like .gitignore: a glob without `/` matches a
 * file's name in any folder (monorepos keep lockfiles in packages); one with `/` matches
 * from the root. `*` and `?` stay within a folder, `**` crosses folders.
 */
export function globMatcher(glob: string): (file: string) => boolean {
  const anchored = glob.includes('/');
  const pattern = glob.replace(/^\//, '');
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` is any number of folders, including none.
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const test = new RegExp(`^${re}$`);
  return anchored ? (file) => test.test(file) : (file) => test.test(file.slice(file.lastIndexOf('/') + 1));
}

/** Does `file` match any of the globs? */
export function watchMatcher(globs: readonly string[]): (file: string) => boolean {
  const tests = globs.map(globMatcher);
  return (file) => tests.some((t) => t(file));
}
