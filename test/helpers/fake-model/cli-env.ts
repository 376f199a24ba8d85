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

export function claudeEnv(fakeUrl: string, home: string): NodeJS.ProcessEnv {
  return {
    ...baseEnv(home),
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
