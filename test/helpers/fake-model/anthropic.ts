// The Anthropic Messages API as Claude Code speaks it: POST /v1/messages, streamed as server-sent events.
import type { ServerResponse } from 'node:http';
import type { ApiFailure, ModelRequest, ToolCall, Turn } from './script';

type Block = { type?: string; text?: string; content?: unknown };
type Message = { role?: string; content?: string | Block[] };

function textsOf(content: unknown): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  return (content as Block[]).filter((b) => b.type === 'text' && typeof b.text === 'string').map((b) => b.text!);
}

export function readAnthropicRequest(body: unknown): ModelRequest {
  const b = (body ?? {}) as { model?: string; stream?: boolean; messages?: Message[]; tools?: { name?: string }[] };
  const messages = Array.isArray(b.messages) ? b.messages : [];
  const userTexts: string[] = [];
  const toolResults: string[] = [];
  for (const m of messages) {
    if (m.role !== 'user') continue;
    userTexts.push(...textsOf(m.content));
    if (!Array.isArray(m.content)) continue;
    for (const block of m.content) if (block.type === 'tool_result') toolResults.push(textsOf(block.content).join('\n'));
  }
  return {
    api: 'anthropic',
    model: b.model ?? '',
    stream: b.stream === true,
    userTexts,
    toolResults,
    toolNames: (b.tools ?? []).map((t) => t.name ?? ''),
    body,
  };
}

function toolUse(call: ToolCall): { name: string; input: Record<string, unknown> } {
  if (call.kind === 'shell') return { name: 'Bash', input: { command: call.command, description: 'Run a scripted command' } };
  return { name: call.name, input: call.input };
}

function contentOf(turn: Turn, seq: number): Record<string, unknown>[] {
  const blocks: Record<string, unknown>[] = [];
  if (turn.text) blocks.push({ type: 'text', text: turn.text });
  (turn.tools ?? []).forEach((call, i) => blocks.push({ type: 'tool_use', id: `toolu_fake_${seq}_${i}`, ...toolUse(call) }));
  return blocks;
}

function usageOf(turn: Turn): Record<string, number> {
  return {
    input_tokens: turn.usage.input,
    output_tokens: turn.usage.output,
    cache_creation_input_tokens: turn.usage.cacheCreation,
    cache_read_input_tokens: turn.usage.cacheRead,
  };
}

/** Answers one request with the turn, streamed or as one JSON body, as the request asked. */
export function writeAnthropicTurn(res: ServerResponse, request: ModelRequest, turn: Turn, seq: number): void {
  const content = contentOf(turn, seq);
  const stopReason = turn.tools?.length ? 'tool_use' : 'end_turn';
  const message = { id: `msg_fake_${seq}`, type: 'message', role: 'assistant', model: request.model, stop_sequence: null };
  if (!request.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...message, content, stop_reason: stopReason, usage: usageOf(turn) }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (type: string, data: Record<string, unknown>) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  // Like the real API: message_start carries the input side, message_delta the final output count.
  send('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...usageOf(turn), output_tokens: 1 } } });
  content.forEach((block, index) => {
    if (block.type === 'text') {
      send('content_block_start', { index, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { index, delta: { type: 'text_delta', text: block.text } });
    } else {
      send('content_block_start', { index, content_block: { ...block, input: {} } });
      send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
    }
    send('content_block_stop', { index });
  });
  send('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: usageOf(turn) });
  send('message_stop', {});
  res.end();
}

/**
 * An API error as Anthropic sends it. `x-should-retry: false` makes Claude Code give up at
 * once: without it, it retries 429 and 401 ten times over about three minutes.
 */
export function writeAnthropicFailure(res: ServerResponse, fail: ApiFailure): void {
  const type = fail.status === 429 ? 'rate_limit_error' : 'authentication_error';
  res.writeHead(fail.status, { 'content-type': 'application/json', 'x-should-retry': 'false' });
  res.end(JSON.stringify({ type: 'error', error: { type, message: fail.message } }));
}
