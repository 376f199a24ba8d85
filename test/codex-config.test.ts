// The town's Codex config: only Overseer's own worktrees trusted, a provider only when the
// environment names one, written only when something is missing; and a rollout's tokens.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { codexHome, seedCodexConfig, stopCodexDaemons, trustedProjects } from '../src/main/runtimes/codex';
import { rolloutTokens } from '../src/main/runtimes/codex-hooks';
import { removeTempDirs, tempDir } from './helpers/town';

afterEach(() => removeTempDirs());

describe('the town codex config', () => {
  it('trusts each worktree Overseer starts an agent in, keeps the earlier ones, and leaves a complete file alone', () => {
    const town = tempDir('codex-config');
    const file = path.join(codexHome(town), 'config.toml');
    seedCodexConfig(town, '/w/app/quartz', "'node' 'hook.cjs' codex", {});
    seedCodexConfig(town, '/w/app/"odd" jasper', "'node' 'hook.cjs' codex", {});
    const text = fs.readFileSync(file, 'utf8');
    expect(trustedProjects(text)).toEqual(['/w/app/quartz', '/w/app/"odd" jasper']);
    expect(text).not.toContain('model_provider');
    expect(text).toContain(`command = "'node' 'hook.cjs' codex Stop"`);
    // Codex adds its own notes; a start in a trusted worktree rewrites nothing.
    fs.appendFileSync(file, '\n[tui]\nscreen_reader_detection_done = true\n');
    const before = fs.readFileSync(file, 'utf8');
    seedCodexConfig(town, '/w/app/quartz', "'node' 'hook.cjs' codex", {});
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('trusts no new worktree when runtimes.trust_worktrees is off (Codex asks, the agent waits)', () => {
    const town = tempDir('codex-config');
    const file = path.join(codexHome(town), 'config.toml');
    seedCodexConfig(town, '/w/app/quartz', "'node' 'hook.cjs' codex", {}, false);
    expect(trustedProjects(fs.readFileSync(file, 'utf8'))).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).toContain(`command = "'node' 'hook.cjs' codex Stop"`);
    seedCodexConfig(town, '/w/app/jasper', "'node' 'hook.cjs' codex", {}, true);
    seedCodexConfig(town, '/w/app/onyx', "'node' 'hook.cjs' codex", {}, false);
    expect(trustedProjects(fs.readFileSync(file, 'utf8'))).toEqual(['/w/app/jasper']);
  });

  it('stops a daemon named by its pid file only when that process runs on the town\'s CODEX_HOME (a reused pid is left alone)', async () => {
    const town = tempDir('codex-daemon');
    const dir = path.join(codexHome(town), 'app-server-daemon');
    fs.mkdirSync(dir, { recursive: true });
    const stranger = spawn('sleep', ['30'], { env: { PATH: process.env.PATH } });
    const daemon = spawn('sleep', ['30'], { env: { PATH: process.env.PATH, CODEX_HOME: codexHome(town) } });
    const gone = (p: typeof daemon) => new Promise<string | null>((r) => p.once('exit', (_c, sig) => r(sig)));
    const daemonGone = gone(daemon);
    try {
      fs.writeFileSync(path.join(dir, 'daemon-updater.pid'), JSON.stringify({ pid: stranger.pid }));
      fs.writeFileSync(path.join(dir, 'daemon.pid'), JSON.stringify({ pid: daemon.pid }));
      stopCodexDaemons(town);
      expect(await daemonGone).toBe('SIGKILL');
      await new Promise((r) => setTimeout(r, 300)); // a kill sent to the stranger would have landed by now
      expect(stranger.exitCode).toBeNull();
      expect(stranger.signalCode).toBeNull();
    } finally {
      stranger.kill('SIGKILL');
      daemon.kill('SIGKILL');
    }
  });

  it('points the provider at OPENAI_BASE_URL with the key from the environment, and names no key itself', () => {
    const town = tempDir('codex-config');
    seedCodexConfig(town, '/w/a', 'hook', { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_API_KEY: 'sk-secret' });
    const text = fs.readFileSync(path.join(codexHome(town), 'config.toml'), 'utf8');
    expect(text).toMatch(/^model_provider = "overseer"$/m);
    expect(text).toContain('base_url = "http://127.0.0.1:9/v1"');
    expect(text).toContain('env_key = "OPENAI_API_KEY"');
    expect(text).not.toContain('sk-secret');
  });
});

describe('codex rollout tokens', () => {
  it('counts each response once, input without its cached reads and cache writes', () => {
    const record = (id: string, input: number, cached: number, written: number, output: number) =>
      JSON.stringify({ type: 'token_usage_record', payload: { response_id: id, usage: { input_tokens: input, cached_input_tokens: cached, cache_write_input_tokens: written, output_tokens: output } } });
    const jsonl = [record('r1', 1000, 300, 50, 40), record('r1', 1000, 300, 50, 40), '{"type":"event_msg"}', record('r2', 500, 100, 0, 10), '{"type":"token_usage_rec'].join('\n');
    expect(rolloutTokens(jsonl)).toEqual({ input_tokens: 1050, output_tokens: 50, cache_creation_tokens: 50, cache_read_tokens: 400, cost_usd: null });
  });
});
