// What a Claude Code hook or status-line call means in Overseer's words. Pure: the
// forwarder (src/cli/runtime-hook.ts) reads the payload from stdin and sends the result.
import type { RuntimeEvent } from '../../shared/domain';

export interface RuntimeEventReport {
  runtime: 'claude' | 'codex';
  event: RuntimeEvent;
  session?: string;
  message?: string;
  tool?: string;
  command?: string;
  model?: string;
  usage?: { input_tokens: number; output_tokens: number; cache_creation_tokens: number; cache_read_tokens: number; cost_usd: number | null };
}

type Payload = Record<string, unknown>;
const str = (v: unknown, max = 2000): string | undefined => (typeof v === 'string' && v !== '' ? v.slice(0, max) : undefined);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

function base(p: Payload): Pick<RuntimeEventReport, 'runtime' | 'session'> {
  const session = str(p.session_id, 128);
  return { runtime: 'claude', ...(session && SESSION_ID.test(session) ? { session } : {}) };
}

function toolOf(p: Payload): Pick<RuntimeEventReport, 'tool' | 'command'> {
  const input = (p.tool_input ?? {}) as Payload;
  const command = str(input.command, 4000) ?? str(input.file_path, 4000) ?? str(input.path, 4000);
  return { ...(str(p.tool_name, 200) ? { tool: str(p.tool_name, 200) } : {}), ...(command ? { command } : {}) };
}

/** A hook's payload → the event to report, or null when it says nothing Overseer uses. */
export function claudeHookEvent(hook: string, p: Payload): RuntimeEventReport | null {
  const b = base(p);
  switch (hook) {
    case 'SessionStart': {
      const model = str(p.model, 100);
      return { ...b, event: 'session_start', ...(model ? { model } : {}) };
    }
    case 'UserPromptSubmit':
      return { ...b, event: 'prompt' };
    case 'PreToolUse':
      return { ...b, event: 'tool', ...toolOf(p) };
    case 'PostToolUse':
      return { ...b, event: 'tool_done', ...toolOf(p) };
    case 'PermissionRequest':
      return { ...b, event: 'permission', ...toolOf(p) };
    case 'Notification': {
      const type = str(p.notification_type, 100);
      // The permission ask was already reported (PermissionRequest, at once; this one comes seconds later).
      if (type === 'permission_prompt') return null;
      if (type === 'idle_prompt') return { ...b, event: 'idle_prompt', message: str(p.message) };
      return { ...b, event: 'notification', message: str(p.message) ?? 'Claude needs your attention' };
    }
    case 'Stop':
      return { ...b, event: 'turn_end', message: str(p.last_assistant_message, 500) };
    case 'StopFailure': {
      const error = str(p.error, 100);
      const message = str(p.last_assistant_message, 500) ?? error ?? 'API error';
      if (error === 'rate_limit') return { ...b, event: 'limit', message };
      if (error === 'authentication_failed') return { ...b, event: 'auth_failed', message };
      // A server error: Claude is back at its prompt; the finish reminder makes it go on.
      return { ...b, event: 'turn_end', message };
    }
    case 'SessionEnd':
      return { ...b, event: 'session_end', message: str(p.reason, 100) };
    default:
      return null;
  }
}

/**
 * Token totals of a session from its transcript: one `assistant` line per content block,
 * the same message id repeated with the same usage, so each message counts once.
 */
export function transcriptTokens(jsonl: string): Omit<NonNullable<RuntimeEventReport['usage']>, 'cost_usd'> {
  const seen = new Set<string>();
  const t = { input_tokens: 0, output_tokens: 0, cache_creation_tokens: 0, cache_read_tokens: 0 };
  for (const line of jsonl.split('\n')) {
    if (!line.includes('"assistant"') || !line.includes('"usage"')) continue;
    let entry: Payload;
    try {
      entry = JSON.parse(line) as Payload;
    } catch {
      continue; // a line being written
    }
    const message = entry.message as Payload | undefined;
    const usage = message?.usage as Payload | undefined;
    if (entry.type !== 'assistant' || !usage) continue;
    const id = str(message?.id) ?? str(entry.requestId) ?? str(entry.uuid) ?? line;
    if (seen.has(id)) continue;
    seen.add(id);
    t.input_tokens += num(usage.input_tokens);
    t.output_tokens += num(usage.output_tokens);
    t.cache_creation_tokens += num(usage.cache_creation_input_tokens);
    t.cache_read_tokens += num(usage.cache_read_input_tokens);
  }
  return t;
}

/** The status line's payload: the session's spend so far (cumulative, also across a resume); null when it carries none. */
export function claudeStatusCost(p: Payload): { cost_usd: number | null; model?: string } {
  const cost = (p.cost ?? {}) as Payload;
  const model = str(((p.model ?? {}) as Payload).id, 100);
  const usd = cost.total_cost_usd;
  return { cost_usd: typeof usd === 'number' && Number.isFinite(usd) && usd >= 0 ? usd : null, ...(model ? { model } : {}) };
}
