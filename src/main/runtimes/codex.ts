// The `codex` runtime: the Codex TUI in the agent's PTY, its first prompt given as an
// argument (never through a shell), its hooks pointed at Overseer, and its state kept in
// the town's own CODEX_HOME, never in the user's ~/.codex.
import fs from 'node:fs';
import path from 'node:path';
import type { PermissionMode } from '../../shared/domain';
import { writeFileAtomic } from './runtime-files';

export interface CodexLaunch {
  cli: string;
  townDir: string;
  worktree: string;
  /** The command a hook runs: node and the forwarder, already quoted for sh. */
  hookCommand: string;
  permissions: PermissionMode;
  model: string | null;
  prompt: string;
  /** A conversation to resume (its rollout exists), else null: Codex picks the new id itself. */
  resume: string | null;
  /** runtimes.trust_worktrees: mark the worktree trusted in the town's config (else Codex asks, and the agent waits). */
  trustWorktree: boolean;
}

/** Where the town's Codex agents keep their state (config, rollouts): one per town. */
export const codexHome = (townDir: string) => path.join(townDir, 'runtimes', 'codex');

/**
 * Codex 0.169 asks only when a command would leave its sandbox (`-a on-request`; `untrusted`,
 * which asked for every command, is gone), so the sandbox decides what asks
 * (codex-tui-findings.md §9). `ask`: a read-only sandbox, so every command that changes
 * anything asks the overseer; reads run. `auto`: edits inside the worktree run, but a commit
 * writes the rig's git dir, which Codex keeps read-only, so it asks too: with `-a never` the
 * agent could never commit.
 */
const PERMISSION_FLAGS: Record<PermissionMode, string[]> = {
  ask: ['-s', 'read-only', '-a', 'on-request'],
  auto: ['-s', 'workspace-write', '-a', 'on-request'],
  bypass: ['--dangerously-bypass-approvals-and-sandbox'],
};

const HOOKS = ['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PermissionRequest', 'PostToolUse', 'Stop', 'Interrupt', 'SessionEnd'];
const TOOL_HOOKS = new Set(['PreToolUse', 'PermissionRequest', 'PostToolUse']);

/** A TOML basic string: JSON's escapes are TOML's. */
const toml = (s: string) => JSON.stringify(s);

/**
 * Which model provider the agents use. With OPENAI_BASE_URL (a proxy, a local server) or
 * OPENAI_API_KEY set, a provider reading the key from the environment; without it Codex
 * would show its sign-in screen, even with the key set. With neither, Codex's own login
 * in the town's CODEX_HOME (`CODEX_HOME=<town>/runtimes/codex codex login`).
 */
function providerLines(env: NodeJS.ProcessEnv): string[] {
  const base = env.OPENAI_BASE_URL;
  if (!base && !env.OPENAI_API_KEY) return [];
  return [
    '',
    '[model_providers.overseer]',
    'name = "OpenAI (key from the environment)"',
    `base_url = ${toml(base || 'https://api.openai.com/v1')}`,
    'wire_api = "responses"',
    'env_key = "OPENAI_API_KEY"',
  ];
}

function hookLines(hookCommand: string): string[] {
  const lines: string[] = [];
  for (const event of HOOKS) {
    lines.push('', `[[hooks.${event}]]`);
    if (TOOL_HOOKS.has(event)) lines.push('matcher = "*"');
    lines.push(`[[hooks.${event}.hooks]]`, 'type = "command"', `command = ${toml(`${hookCommand} ${event}`)}`, 'timeout = 30');
  }
  return lines;
}

const TRUSTED = /^\[projects\.("(?:[^"\\]|\\.)*")\]\ntrust_level = "trusted"$/gm;

/** The worktrees the town's config already trusts (Overseer wrote each entry). */
export function trustedProjects(config: string): string[] {
  return [...config.matchAll(TRUSTED)].map((m) => JSON.parse(m[1]) as string);
}

/**
 * The town's config.toml: the provider, the hooks, and Overseer's own worktrees trusted (so
 * no "Trust this folder?" stops an agent). Rewritten only when something of it is missing;
 * what Codex itself adds (its TUI notes) is dropped then and written again by Codex.
 */
export function seedCodexConfig(townDir: string, worktree: string, hookCommand: string, env: NodeJS.ProcessEnv, trust = true) {
  const file = path.join(codexHome(townDir), 'config.toml');
  let current = '';
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    // first start
  }
  const head = [
    '# Written by Overseer for its agents; trust entries are its own worktrees.',
    ...(providerLines(env).length ? ['model_provider = "overseer"'] : []),
    // A login shell would reset PATH from /etc/profile, and the agent's `town` is on PATH.
    'allow_login_shell = false',
    ...providerLines(env),
    '',
    // Codex's shell drops every *KEY*, *SECRET* and *TOKEN* variable by default; the agent's
    // `town done` needs TOWN_TOKEN, so only the first two kinds are kept out.
    '[shell_environment_policy]',
    'ignore_default_excludes = true',
    'exclude = ["*KEY*", "*SECRET*"]',
    ...hookLines(hookCommand),
    '',
  ].join('\n');
  // With trust turned off, entries written before stay and the new worktree gets none.
  const trusted = trustedProjects(current);
  if (current.startsWith(head) && (!trust || trusted.includes(worktree))) return;
  const projects = [...new Set([...trusted, ...(trust ? [worktree] : [])])].map((p) => `[projects.${toml(p)}]\ntrust_level = "trusted"\n`);
  writeFileAtomic(file, `${head}\n${projects.join('\n')}`, 0o600);
}

/** The rollout (transcript and token records) Codex keeps for a session, if any. */
export function codexRollout(townDir: string, session: string): string | null {
  const sessions = path.join(codexHome(townDir), 'sessions');
  const walk = (dir: string, depth: number): string | null => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return null;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (depth < 3 && e.isDirectory()) {
        const found = walk(p, depth + 1);
        if (found) return found;
      } else if (depth === 3 && e.isFile() && e.name.startsWith('rollout-') && e.name.endsWith(`-${session}.jsonl`)) {
        return p;
      }
    }
    return null;
  };
  return walk(sessions, 0);
}

/** Whether process `pid` has `CODEX_HOME=home` in its environment (Linux /proc; elsewhere: unknown, so no). */
function runsOnCodexHome(pid: number, home: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`CODEX_HOME=${home}`);
  } catch {
    return false;
  }
}

/**
 * Codex's app-server daemon outlives the TUI. Overseer starts none (`--no-daemon`), but one
 * started from the town's CODEX_HOME by hand would hold its state: stopped by its pid files.
 */
export function stopCodexDaemons(townDir: string) {
  for (const name of ['daemon-updater.pid', 'daemon.pid']) {
    const file = path.join(codexHome(townDir), 'app-server-daemon', name);
    try {
      const pid = (JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: unknown }).pid;
      // A pid file can outlive its process and the pid be reused: only a process that runs
      // on this town's CODEX_HOME is stopped.
      if (typeof pid === 'number' && Number.isInteger(pid) && pid > 1 && runsOnCodexHome(pid, codexHome(townDir))) process.kill(pid, 'SIGKILL');
    } catch {
      // no daemon, or already gone
    }
  }
}

export function codexLaunch(o: CodexLaunch, env: NodeJS.ProcessEnv = process.env): { file: string; args: string[]; env: Record<string, string> } {
  const home = codexHome(o.townDir);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  seedCodexConfig(o.townDir, o.worktree, o.hookCommand, env, o.trustWorktree);
  const args = [
    ...(o.resume ? ['resume'] : []),
    // No daemon to outlive the agent; hooks are Overseer's own, so no "Hooks need review" screen.
    '--no-daemon', '--dangerously-bypass-hook-trust',
    ...PERMISSION_FLAGS[o.permissions],
    ...(o.model ? ['-m', o.model] : []),
    ...(o.resume ? [o.resume] : []),
    o.prompt,
  ];
  // Codex makes no sandbox helpers when CODEX_HOME lies under TMPDIR (a town under /tmp), and
  // then every sandboxed command fails: its own temp dir, inside the town, keeps it outside.
  const tmp = path.join(home, 'scratch');
  fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
  return { file: o.cli, args, env: { CODEX_HOME: home, TMPDIR: tmp } };
}
