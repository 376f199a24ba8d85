// What a Codex hook means in Overseer's words, and the tokens its rollout records. Pure:
// the forwarder (src/cli/runtime-hook.ts) reads the payload and the rollout and sends the result.
import type { RuntimeEventReport } from './claude-hooks';

type Payload = Record<string, unknown>;
const str = (v: unknown, max = 2000): string | undefined => (typeof v === 'string' && v !== '' ? v.slice(0, max) : undefined);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

function base(p: Payload): Pick<RuntimeEventReport, 'runtime' | 'session' | 'model'> {
  const session = str(p.session_id, 128);
  const model = str(p.model, 100);
  return { runtime: 'codex', ...(session && SESSION_ID.test(session) ? { session } : {}), ...(model ? { model } : {}) };
}

/** Codex names its exec_command tool `Bash`; `tool_input.command` is the command line. */
function toolOf(p: Payload): Pick<RuntimeEventReport, 'tool' | 'command'> {
  const input = (p.tool_input ?? {}) as Payload;
  const command = str(input.command, 4000) ?? str(input.path, 4000);
  const tool = str(p.tool_name, 200);
  return { ...(tool ? { tool } : {}), ...(command ? { command } : {}) };
}

/** A hook's payload → the event to report, or null when it says nothing Overseer uses. */
export function codexHookEvent(hook: string, p: Payload): RuntimeEventReport | null {
  const b = base(p);
  switch (hook) {
    case 'SessionStart':
      // Fires just before the first prompt is sent, with the session id resume needs.
      return { ...b, event: 'session_start' };
    case 'UserPromptSubmit':
      return { ...b, event: 'prompt' };
    case 'PreToolUse':
      return { ...b, event: 'tool', ...toolOf(p) };
    case 'PostToolUse':
      return { ...b, event: 'tool_done', ...toolOf(p) };
    case 'PermissionRequest':
      return { ...b, event: 'permission', ...toolOf(p) };
    case 'Stop':
      // Once per finished turn; an API error fires no hook at all.
      return { ...b, event: 'turn_end', message: str(p.last_assistant_message, 500) };
    case 'Interrupt':
      // Esc, or a denied approval: the turn ended, Codex waits at its prompt.
      return { ...b, event: 'turn_end', message: 'the turn was interrupted' };
    case 'SessionEnd':
      return { ...b, event: 'session_end', message: str(p.reason, 100) };
    default:
      return null;
  }
}

/**
 * Token totals of a conversation from its rollout: one `token_usage_record` per model
 * response (a resume appends to the same file). Codex's input count includes cached reads
 * and cache writes; Overseer counts input as the uncached rest, as for Claude. Codex
 * computes no price, and Overseer has no price table: the cost is unknown (null), not 0.
 */
export function rolloutTokens(jsonl: string): NonNullable<RuntimeEventReport['usage']> {
  const seen = new Set<string>();
  const t = { input_tokens: 0, output_tokens: 0, cache_creation_tokens: 0, cache_read_tokens: 0, cost_usd: null };
  for (const line of jsonl.split('\n')) {
    if (!line.includes('"token_usage_record"')) continue;
    let entry: Payload;
    try {
      entry = JSON.parse(line) as Payload;
    } catch {
      continue; // a line being written
    }
    const payload = (entry.payload ?? {}) as Payload;
    const usage = payload.usage as Payload | undefined;
    if (entry.type !== 'token_usage_record' || !usage) continue;
    const id = str(payload.response_id) ?? line;
    if (seen.has(id)) continue;
    seen.add(id);
    const cached = num(usage.cached_input_tokens);
    const written = num(usage.cache_write_input_tokens);
    t.input_tokens += Math.max(0, num(usage.input_tokens) - cached - written);
    t.output_tokens += num(usage.output_tokens);
    t.cache_creation_tokens += written;
    t.cache_read_tokens += cached;
  }
  return t;
}
