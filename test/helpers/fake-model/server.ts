// A fake model server for tests: plays a per-test script of turns to the real agent CLIs over the Anthropic
// Messages API or the OpenAI Responses API, records every request, and fails the test on any it did not expect.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readAnthropicRequest, writeAnthropicFailure, writeAnthropicTurn } from './anthropic';
import { readResponsesRequest, writeResponsesFailure, writeResponsesTurn } from './openai-responses';
import type { ModelRequest, Turn } from './script';
import { findSideRequest } from './side-requests';

const HEADERS_OF_INTEREST = [
  'user-agent', 'content-type', 'x-api-key', 'authorization', 'anthropic-version', 'anthropic-beta',
  'x-claude-code-session-id', 'session-id', 'originator',
];

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  /** `turn` answered by the script (its index), `side` by the allow-list, `unexpected` failed the test. */
  kind: 'turn' | 'side' | 'unexpected';
  turn?: number;
  model?: ModelRequest;
}

export interface FakeModelServer {
  /** Base URL for ANTHROPIC_BASE_URL; Codex's provider `base_url` is this plus `/v1`. */
  url: string;
  requests: RecordedRequest[];
  /** Every way the CLI strayed from the script; close() throws if any. */
  errors: string[];
  /** Model requests the script answered, in order. */
  turnRequests(): ModelRequest[];
  unplayedTurns(): number;
  /** Stops the server; throws if a request was unexpected or failed a turn's `expect`. */
  close(): Promise<void>;
}

function modelRoute(method: string, path: string) {
  if (method !== 'POST') return undefined;
  if (path === '/v1/messages') return { read: readAnthropicRequest, write: writeAnthropicTurn, refuse: writeAnthropicFailure };
  if (path === '/v1/responses') return { read: readResponsesRequest, write: writeResponsesTurn, refuse: writeResponsesFailure };
  return undefined;
}

function parse(raw: string): unknown {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export async function startFakeModel(script: readonly Turn[]): Promise<FakeModelServer> {
  const requests: RecordedRequest[] = [];
  const errors: string[] = [];
  const played = new Set<number>();
  let seq = 0;

  function fail(res: http.ServerResponse, record: RecordedRequest, message: string): void {
    record.kind = 'unexpected';
    errors.push(`${record.method} ${record.path}: ${message}`);
    // 400, not 5xx: the CLIs retry server errors, which would only repeat the failure.
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: `fake model: ${message}` } }));
  }

  function answer(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const path = (req.url ?? '/').split('?')[0];
    const headers: Record<string, string> = {};
    for (const h of HEADERS_OF_INTEREST) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h] as string;
    const record: RecordedRequest = { method: req.method ?? '', path, headers, body: parse(raw), kind: 'side' };
    requests.push(record);

    const route = modelRoute(record.method, path);
    const model = route?.read(record.body);
    record.model = model;
    const side = findSideRequest(record.method, path, model)?.answer;
    if (side && 'turn' in side) return route!.write(res, model!, side.turn, ++seq);
    if (side) {
      res.writeHead(side.status, { 'content-type': 'application/json' });
      res.end(side.json === undefined ? undefined : JSON.stringify(side.json));
      return;
    }
    if (!route || !model) return fail(res, record, 'no such endpoint in the fake model');
    const index = script.findIndex((turn, i) => !played.has(i) && (turn.when?.(model) ?? true));
    if (index < 0) return fail(res, record, `no scripted turn left for this request (last user text: ${JSON.stringify(model.userTexts.at(-1)?.slice(0, 200))})`);
    played.add(index);
    record.kind = 'turn';
    record.turn = index;
    try {
      script[index].expect?.(model);
    } catch (e) {
      return fail(res, record, `turn ${index}: ${(e as Error).message}`);
    }
    const turn = script[index];
    if (turn.fail) return route.refuse(res, turn.fail);
    const n = ++seq;
    if (!turn.hold) return route.write(res, model, turn, n);
    // A held request whose client went away (the CLI was killed) is never answered.
    void turn.hold.then(() => {
      if (!res.destroyed && !res.writableEnded) route.write(res, model, turn, n);
    });
  }

  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => answer(req, res, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    errors,
    turnRequests: () => requests.filter((r) => r.kind === 'turn').map((r) => r.model!),
    unplayedTurns: () => script.length - played.size,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (errors.length) throw new Error(`fake model server saw unexpected requests:\n${errors.join('\n')}`);
    },
  };
}
