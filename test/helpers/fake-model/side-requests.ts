// Requests the CLIs send besides their model turns. Each harmless one is named here with its answer, so the
// turn script holds only the turns a test is about and anything not listed still fails the test.
import type { ModelRequest, Turn } from './script';
import { usage } from './script';

export interface SideRequest {
  why: string;
  /** `model` is the request read as a model turn, when it went to a model endpoint. */
  matches: (method: string, path: string, model: ModelRequest | undefined) => boolean;
  /** A plain HTTP answer, or a model turn played in the request's own wire format. */
  answer: { status: number; json?: unknown } | { turn: Turn };
}

/** Zero usage, so a CLI's reported totals stay the script's own. */
const FREE = usage(0, 0, 0, 0);

export const SIDE_REQUESTS: readonly SideRequest[] = [
  {
    why: 'Claude Code checks the API host is reachable before its first request (HEAD /api/hello)',
    matches: (method, path) => method === 'HEAD' && path === '/api/hello',
    answer: { status: 200 },
  },
  {
    why: 'Claude Code may count the tokens of a context before sending it',
    matches: (method, path) => method === 'POST' && path === '/v1/messages/count_tokens',
    answer: { status: 200, json: { input_tokens: 1 } },
  },
  {
    // Interactive sessions only (not claude -p / codex exec): a structured-output request for {"title": ...}
    // about the first prompt, with no tools. Claude puts the schema in output_config.format, Codex in text.format.
    why: 'Claude Code and the Codex TUI name a session from its first prompt',
    matches: (_method, _path, model) => model !== undefined && asksForTitle(model),
    answer: { turn: { text: '{"title":"Scripted session"}', usage: FREE } },
  },
];

type Format = { format?: { schema?: { properties?: Record<string, unknown> } } };

function asksForTitle(model: ModelRequest): boolean {
  const body = model.body as { output_config?: Format; text?: Format };
  const format = model.api === 'anthropic' ? body.output_config?.format : body.text?.format;
  return model.toolNames.length === 0 && format?.schema?.properties?.title !== undefined;
}

export function findSideRequest(method: string, path: string, model: ModelRequest | undefined): SideRequest | undefined {
  return SIDE_REQUESTS.find((s) => s.matches(method, path, model));
}
