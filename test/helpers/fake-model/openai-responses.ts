// The OpenAI Responses API as Codex speaks it with `wire_api = "responses"`: POST <base_url>/responses, streamed.
import type { ServerResponse } from 'node:http';
import type { ApiFailure, ModelRequest, ToolCall, Turn } from './script';

type Part = { type?: string; text?: string };
type Item = { type?: string; role?: string; content?: string | Part[]; output?: unknown };

function textsOf(content: unknown): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  return (content as Part[]).filter((p) => typeof p.text === 'string').map((p) => p.text!);
}

export function readResponsesRequest(body: unknown): ModelRequest {
  const b = (body ?? {}) as { model?: string; stream?: boolean; input?: Item[]; tools?: { name?: string; type?: string }[] };
  const input = Array.isArray(b.input) ? b.input : [];
  const userTexts: string[] = [];
  const toolResults: string[] = [];
  for (const item of input) {
    if (item.type === 'message' && item.role === 'user') userTexts.push(...textsOf(item.content));
    if (item.type === 'function_call_output') toolResults.push(typeof item.output === 'string' ? item.output : textsOf(item.output).join('\n'));
  }
  return {
    api: 'openai-responses',
    model: b.model ?? '',
    stream: b.stream !== false,
    userTexts,
    toolResults,
    toolNames: (b.tools ?? []).map((t) => t.name ?? t.type ?? ''),
    body,
  };
}

function functionCall(call: ToolCall): { name: string; arguments: string } {
  // Codex 0.169 offers `exec_command` ({cmd, workdir?, ...}) for commands; see fake-model-findings.md.
  if (call.kind === 'shell') return { name: 'exec_command', arguments: JSON.stringify({ cmd: call.command }) };
  return { name: call.name, arguments: JSON.stringify(call.input) };
}

function outputOf(turn: Turn, seq: number): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  if (turn.text) {
    items.push({
      type: 'message',
      id: `msg_fake_${seq}`,
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: turn.text, annotations: [] }],
    });
  }
  (turn.tools ?? []).forEach((call, i) =>
    items.push({ type: 'function_call', id: `fc_fake_${seq}_${i}`, call_id: `call_fake_${seq}_${i}`, status: 'completed', ...functionCall(call) }),
  );
  return items;
}

/** Responses-style usage: input_tokens includes cached reads and cache writes; their details name each. */
function usageOf(turn: Turn): Record<string, unknown> {
  const input = turn.usage.input + turn.usage.cacheCreation + turn.usage.cacheRead;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: turn.usage.cacheRead, cache_write_tokens: turn.usage.cacheCreation },
    output_tokens: turn.usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + turn.usage.output,
  };
}

export function writeResponsesTurn(res: ServerResponse, request: ModelRequest, turn: Turn, seq: number): void {
  const output = outputOf(turn, seq);
  const response = { id: `resp_fake_${seq}`, object: 'response', model: request.model };
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let sequence = 0;
  const send = (type: string, data: Record<string, unknown>) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`);
  send('response.created', { response: { ...response, status: 'in_progress', output: [] } });
  output.forEach((item, outputIndex) => {
    if (item.type === 'message') {
      send('response.output_item.added', { output_index: outputIndex, item: { ...item, status: 'in_progress', content: [] } });
      send('response.output_text.delta', { item_id: item.id, output_index: outputIndex, content_index: 0, delta: turn.text });
    } else {
      send('response.output_item.added', { output_index: outputIndex, item: { ...item, status: 'in_progress', arguments: '' } });
    }
    send('response.output_item.done', { output_index: outputIndex, item });
  });
  send('response.completed', { response: { ...response, status: 'completed', output, usage: usageOf(turn) } });
  res.end();
}

/** An API error as OpenAI sends it; Codex retries either five times (about 5 s) before it gives up. */
export function writeResponsesFailure(res: ServerResponse, fail: ApiFailure): void {
  const [type, code] = fail.status === 429 ? ['rate_limit_exceeded', 'rate_limit_exceeded'] : ['invalid_request_error', 'invalid_api_key'];
  res.writeHead(fail.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message: fail.message, type, param: null, code } }));
}
