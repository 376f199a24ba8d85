// How to point the real agent CLIs at a fake model server without touching the user's own config:
// a temp HOME (Claude keeps ~/.claude and ~/.claude.json there) and a temp CODEX_HOME.
import fs from 'node:fs';
import path from 'node:path';

export const CLAUDE_BIN = path.resolve('node_modules/.bin/claude');
export const CODEX_BIN = path.resolve('node_modules/.bin/codex');
export const FAKE_API_KEY = 'sk-fake-model';
/** The provider id Codex's config.toml declares for the fake server. */
export const CODEX_PROVIDER = 'fake';

function baseEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    LANG: 'C.UTF-8',
    // The temp HOME has no ~/.gitconfig; agents' commits need an identity.
    GIT_AUTHOR_NAME: 'agent', GIT_AUTHOR_EMAIL: 'agent@town.test',
    GIT_COMMITTER_NAME: 'agent', GIT_COMMITTER_EMAIL: 'agent@town.test',
  };
}

/** Claude's config dir in a temp HOME; CLAUDE_CONFIG_DIR moves ~/.claude.json into it too. */
export function claudeConfigDir(home: string): string {
  return path.join(home, '.claude');
}

export function claudeEnv(fakeUrl: string, home: string): NodeJS.ProcessEnv {
  return {
    ...baseEnv(home),
    CLAUDE_CONFIG_DIR: claudeConfigDir(home),
    ANTHROPIC_BASE_URL: fakeUrl,
    ANTHROPIC_API_KEY: FAKE_API_KEY,
    // Claude Code refuses --dangerously-skip-permissions as root unless told it runs in a sandbox.
    ...(process.getuid?.() === 0 ? { IS_SANDBOX: '1' } : {}),
  };
}

/** Writes a config.toml whose default provider is the fake server, in the Responses wire format. */
export function writeCodexHome(fakeUrl: string, codexHome: string, model = 'fake-model'): string {
  fs.mkdirSync(codexHome, { recursive: true });
  fs.writeFileSync(
    path.join(codexHome, 'config.toml'),
    [
      `model = "${model}"`,
      `model_provider = "${CODEX_PROVIDER}"`,
      '',
      `[model_providers.${CODEX_PROVIDER}]`,
      'name = "Fake model"',
      `base_url = "${fakeUrl}/v1"`,
      'wire_api = "responses"',
      'env_key = "FAKE_MODEL_API_KEY"',
      '',
    ].join('\n'),
  );
  return codexHome;
}

export function codexEnv(home: string, codexHome: string): NodeJS.ProcessEnv {
  return { ...baseEnv(home), CODEX_HOME: codexHome, FAKE_MODEL_API_KEY: FAKE_API_KEY };
}

export function cliInstalled(bin: string): boolean {
  return fs.existsSync(bin);
}

/**
 * What an interactive (PTY) Claude Code asks on a fresh config, answered ahead: onboarding, "Do you want to use
 * this API key?", trusting the workspace, the --dangerously-skip-permissions warning. Also keeps it from
 * registering a claude-cli:// URL handler under $HOME/.config and $HOME/.local. `-p` runs need none of it.
 */
export function seedClaudeHome(home: string, trustedDirs: string[]): void {
  const dir = claudeConfigDir(home);
  fs.mkdirSync(dir, { recursive: true });
  const state = {
    hasCompletedOnboarding: true,
    // Claude keeps the last 20 characters of each key the user approved.
    customApiKeyResponses: { approved: [FAKE_API_KEY.slice(-20)], rejected: [] },
    projects: Object.fromEntries(trustedDirs.map((d) => [d, { hasTrustDialogAccepted: true }])),
  };
  fs.writeFileSync(path.join(dir, '.claude.json'), JSON.stringify(state, null, 2));
  const settings = { skipDangerousModePermissionPrompt: true, disableDeepLinkRegistration: 'disable' };
  fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings, null, 2));
}

/** The Codex TUI asks to trust a folder it has not seen; exec does not. */
export function trustCodexProject(codexHome: string, dir: string): void {
  fs.appendFileSync(path.join(codexHome, 'config.toml'), `\n[projects."${dir}"]\ntrust_level = "trusted"\n`);
}

/**
 * The Codex TUI (not exec) starts a detached app-server daemon that outlives it; it writes its pids as JSON
 * ({"pid": N, ...}) under $CODEX_HOME/app-server-daemon. Stops those, and only those.
 */
export function stopCodexDaemons(codexHome: string): void {
  for (const name of ['daemon-updater.pid', 'daemon.pid']) {
    const file = path.join(codexHome, 'app-server-daemon', name);
    if (!fs.existsSync(file)) continue;
    try {
      process.kill((JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number }).pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
