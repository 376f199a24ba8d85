// The `claude` runtime: Claude Code's interactive TUI in the agent's PTY, its first prompt
// given as an argument (never through a shell), its hooks and status line pointed at
// Overseer for this session only (`--settings`), and its state kept in the town's own
// config dir (CLAUDE_CONFIG_DIR), never in the user's ~/.claude or ~/.claude.json.
import fs from 'node:fs';
import path from 'node:path';
import type { PermissionMode } from '../../shared/domain';
import { writeFileAtomic } from './runtime-files';

export interface ClaudeLaunch {
  cli: string;
  townDir: string;
  worktree: string;
  /** The command a hook runs: node and the forwarder, already quoted for sh. */
  hookCommand: string;
  permissions: PermissionMode;
  model: string | null;
  prompt: string;
  /** A conversation to resume (its transcript exists), else a new one with this id. */
  resume: string | null;
  newSession: string;
  /** Pre-answer "Do you trust the files in this folder?" for the worktree (runtimes.trust_worktrees). */
  trustWorktree: boolean;
}

/** Where the town's Claude agents keep their state (config, transcripts): one per town. */
export const claudeConfigDir = (townDir: string) => path.join(townDir, 'runtimes', 'claude');

const PERMISSION_FLAGS: Record<PermissionMode, string> = {
  // Claude Code's own default is now its "auto" classifier; the overseer's `ask` is the mode that asks.
  ask: 'default',
  auto: 'acceptEdits',
  bypass: 'bypassPermissions',
};

/** The transcript Claude keeps for a session started in `cwd` (every `/` becomes `-`). */
export function claudeTranscript(townDir: string, cwd: string, session: string): string {
  return path.join(claudeConfigDir(townDir), 'projects', cwd.replace(/[^A-Za-z0-9]/g, '-'), `${session}.jsonl`);
}

/** The hooks and status line every Claude agent of the town reports through. */
function sessionSettings(hookCommand: string) {
  const hook = (event: string) => [{ hooks: [{ type: 'command', command: `${hookCommand} ${event}`, timeout: 30 }] }];
  const toolHook = (event: string) => [{ matcher: '*', hooks: [{ type: 'command', command: `${hookCommand} ${event}`, timeout: 30 }] }];
  return {
    hooks: {
      SessionStart: hook('SessionStart'),
      UserPromptSubmit: hook('UserPromptSubmit'),
      PreToolUse: toolHook('PreToolUse'),
      PostToolUse: toolHook('PostToolUse'),
      PermissionRequest: toolHook('PermissionRequest'),
      Notification: hook('Notification'),
      Stop: hook('Stop'),
      StopFailure: hook('StopFailure'),
      SessionEnd: hook('SessionEnd'),
    },
    statusLine: { type: 'command', command: `${hookCommand} status` },
    // The rig chose bypass: its warning screen would only stop an unattended agent.
    skipDangerousModePermissionPrompt: true,
    // Claude registers a URL handler in the user's ~/.config and ~/.local otherwise.
    disableDeepLinkRegistration: 'disable',
  };
}

/**
 * Answers in the town's own Claude config what Claude would otherwise ask on every start:
 * onboarding done, the agent's worktree trusted (only Overseer's own worktrees, unless
 * turned off), and the API key in the environment approved. Written only when something is missing.
 */
export function seedClaudeConfig(townDir: string, worktree: string, apiKey: string | undefined, trustWorktree = true) {
  const file = path.join(claudeConfigDir(townDir), '.claude.json');
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    // first start, or a file Claude left half-written: start from what Overseer needs
  }
  let changed = false;
  const set = (apply: () => void) => {
    apply();
    changed = true;
  };
  if (config.hasCompletedOnboarding !== true) set(() => (config.hasCompletedOnboarding = true));
  const projects = (config.projects ?? {}) as Record<string, Record<string, unknown>>;
  if (trustWorktree && projects[worktree]?.hasTrustDialogAccepted !== true) {
    set(() => (config.projects = { ...projects, [worktree]: { ...projects[worktree], hasTrustDialogAccepted: true } }));
  }
  if (apiKey) {
    const responses = (config.customApiKeyResponses ?? { approved: [], rejected: [] }) as { approved?: string[]; rejected?: string[] };
    const suffix = apiKey.slice(-20);
    if (!responses.approved?.includes(suffix)) {
      set(() => (config.customApiKeyResponses = { approved: [...(responses.approved ?? []), suffix], rejected: responses.rejected ?? [] }));
    }
  }
  if (changed) writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`, 0o600);
}

export function claudeLaunch(o: ClaudeLaunch): { file: string; args: string[]; env: Record<string, string> } {
  const dir = claudeConfigDir(o.townDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const settings = path.join(dir, 'overseer-settings.json');
  const content = `${JSON.stringify(sessionSettings(o.hookCommand), null, 2)}\n`;
  if (readOrNull(settings) !== content) writeFileAtomic(settings, content, 0o600);
  seedClaudeConfig(o.townDir, o.worktree, process.env.ANTHROPIC_API_KEY, o.trustWorktree);
  const args = [
    '--settings', settings,
    ...(o.resume ? ['--resume', o.resume] : ['--session-id', o.newSession]),
    '--permission-mode', PERMISSION_FLAGS[o.permissions],
    ...(o.model ? ['--model', o.model] : []),
    o.prompt,
  ];
  const env: Record<string, string> = {
    CLAUDE_CONFIG_DIR: dir,
    // No update checks, telemetry or title requests from agents Overseer runs.
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    // Claude Code refuses bypass as root unless told it is sandboxed.
    ...(o.permissions === 'bypass' && process.getuid?.() === 0 ? { IS_SANDBOX: '1' } : {}),
  };
  return { file: o.cli, args, env };
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
