// Runs for every hook and status-line call of a real agent CLI that Overseer launched:
// reads the CLI's JSON from stdin and tells the engine (agent.runtime_event) with the
// agent's own token. Loads only the socket client: it runs before every tool call.
// It never fails the agent's hook: problems go to stderr and the exit code stays 0.
import fs from 'node:fs';
import path from 'node:path';
import { typedClient } from '../shared/typed-client';
import { SocketClient } from '../main/control/socket-client';
import { claudeHookEvent, claudeStatusCost, transcriptTokens, type RuntimeEventReport } from '../main/runtimes/claude-hooks';
import { codexHookEvent, rolloutTokens } from '../main/runtimes/codex-hooks';

const MAX_INPUT = 4 * 1024 * 1024;

function readStdin(): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      if (data.length < MAX_INPUT) data += chunk;
    });
    process.stdin.on('end', () => resolve(data));
    process.stdin.on('error', () => resolve(data));
  });
}

/** The session's transcript, when it lies in the agent's own config dir (`configDir`). */
function transcriptOf(payload: Record<string, unknown>, configDir: string | undefined): string | null {
  const file = typeof payload.transcript_path === 'string' ? path.resolve(payload.transcript_path) : null;
  if (!file || !configDir || !file.startsWith(path.resolve(configDir) + path.sep)) return null;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function tokensOf(payload: Record<string, unknown>) {
  const transcript = transcriptOf(payload, process.env.CLAUDE_CONFIG_DIR);
  return transcript === null ? null : transcriptTokens(transcript);
}

/** Codex's hooks carry no usage: every turn's tokens are read from its rollout. */
function codexReports(hook: string, payload: Record<string, unknown>): RuntimeEventReport[] {
  const report = codexHookEvent(hook, payload);
  if (!report) return [];
  if (report.event === 'turn_end' || report.event === 'tool_done' || report.event === 'session_end') {
    const rollout = transcriptOf(payload, process.env.CODEX_HOME);
    if (rollout !== null) report.usage = rolloutTokens(rollout);
  }
  return [report];
}

function reportsFor(runtime: string, hook: string, payload: Record<string, unknown>): RuntimeEventReport[] {
  if (runtime === 'codex') return codexReports(hook, payload);
  if (runtime !== 'claude') return [];
  if (hook === 'status') {
    const tokens = tokensOf(payload);
    const { cost_usd, model } = claudeStatusCost(payload);
    const session = typeof payload.session_id === 'string' ? payload.session_id : undefined;
    return [{ runtime: 'claude', event: 'usage', session, model, usage: { ...(tokens ?? { input_tokens: 0, output_tokens: 0, cache_creation_tokens: 0, cache_read_tokens: 0 }), cost_usd } }];
  }
  const report = claudeHookEvent(hook, payload);
  if (!report) return [];
  if (report.event === 'turn_end') {
    const tokens = tokensOf(payload);
    // Tokens only: the cost arrives with the status line (until then the session has no price).
    if (tokens) report.usage = { ...tokens, cost_usd: null };
  }
  return [report];
}

async function main() {
  const [runtime = '', hook = ''] = process.argv.slice(2);
  const raw = await readStdin();
  let payload: Record<string, unknown> = {};
  try {
    payload = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    // nothing usable; still print the status line below
  }
  const dir = process.env.TOWN_DIR;
  const token = process.env.TOWN_TOKEN;
  const reports = reportsFor(runtime, hook, payload);
  if (dir && token && reports.length) {
    const socket = new SocketClient(path.join(dir, 'town.sock'), token);
    try {
      const client = typedClient(socket);
      for (const r of reports) {
        await client.call('agent.runtime_event', Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as RuntimeEventReport);
      }
    } catch (err) {
      process.stderr.write(`town: could not report ${hook}: ${(err as Error).message}\n`);
    } finally {
      socket.close();
    }
  }
  if (hook === 'status') {
    const cost = claudeStatusCost(payload).cost_usd;
    process.stdout.write(`town · ${process.env.TOWN_BEAD ?? 'no bead'} · ${cost === null ? 'no cost yet' : `$${cost.toFixed(2)}`}\n`);
  }
}

void main().finally(() => process.exit(0));
