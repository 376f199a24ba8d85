// The per-test script a fake model server plays: the turns a model would take, in the words of no
// particular API. anthropic.ts and openai-responses.ts translate a turn into their wire format.

/** Token numbers the CLI reports back and Overseer's cost figures are later checked against. */
export interface TurnUsage {
  input: number;
  output: number;
  /** Cache writes: Anthropic's cache_creation_input_tokens, the Responses API's input_tokens_details.cache_write_tokens. */
  cacheCreation: number;
  cacheRead: number;
}

/** Run a shell command through whatever tool the CLI offers for it (Claude's Bash, Codex's exec_command). */
export interface ShellCall {
  kind: 'shell';
  command: string;
}

/** A named tool with its input as the CLI's own tool schema wants it. */
export interface NamedToolCall {
  kind: 'tool';
  name: string;
  input: Record<string, unknown>;
}

export type ToolCall = ShellCall | NamedToolCall;

/** One model request the CLI sends, read out of either API's body. */
export interface ModelRequest {
  api: 'anthropic' | 'openai-responses';
  model: string;
  stream: boolean;
  /** Every text a user message carries, oldest first (Claude adds system-reminder blocks; they are in here too). */
  userTexts: string[];
  /** Output of the tool calls the CLI ran, oldest first. */
  toolResults: string[];
  /** Names of the tools the CLI offers. */
  toolNames: string[];
  body: unknown;
}

export interface Turn {
  /** Plain assistant text, said before any tool call. */
  text?: string;
  tools?: ToolCall[];
  usage: TurnUsage;
  /** Which request this turn answers; the first pending turn whose `when` holds is played. Default: any. */
  when?: (request: ModelRequest) => boolean;
  /** Assertions on the request this turn answers; a throw fails the test (recorded, answered with HTTP 400). */
  expect?: (request: ModelRequest) => void;
  /** Answered only once this settles: the CLI waits mid-turn, as on a slow model, until the test lets it go. */
  hold?: Promise<unknown>;
  /** Answered with this API error instead of a turn (text, tools and usage are not sent). */
  fail?: ApiFailure;
}

/** An error the API answers with: a usage limit (429) or a key it refuses (401). */
export interface ApiFailure {
  status: 429 | 401;
  message: string;
}

/** A turn the API refuses, e.g. `refuse(429, 'rate limited')`. */
export function refuse(status: ApiFailure['status'], message: string, when?: Turn['when']): Turn {
  return { fail: { status, message }, usage: usage(0, 0), ...(when ? { when } : {}) };
}

export function shell(command: string): ShellCall {
  return { kind: 'shell', command };
}

export function usage(input: number, output: number, cacheCreation = 0, cacheRead = 0): TurnUsage {
  return { input, output, cacheCreation, cacheRead };
}

/** Sum of a script's usage, what a CLI should report for a run that played all of it. */
export function totalUsage(turns: readonly Turn[]): TurnUsage {
  const sum = usage(0, 0, 0, 0);
  for (const t of turns) {
    sum.input += t.usage.input;
    sum.output += t.usage.output;
    sum.cacheCreation += t.usage.cacheCreation;
    sum.cacheRead += t.usage.cacheRead;
  }
  return sum;
}
