// `town`: the command line for overseers (humans in shells) and agents (in their PTYs).
// It talks to the running engine over the town's control socket; planning commands also
// work with no engine running, by opening the town directly.
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { typedClient, type ApiInput, type ApiMethod, type ApiOutput, type Transport } from '../shared/api';
import { ApiError } from '../shared/errors';
import { EngineNotRunningError, SocketClient } from '../main/control/socket-client';
import { Engine } from '../main/engine/engine';
import { ensureTownDir, isTown, readOverseerToken, townPaths, type TownPaths } from '../main/engine/town-dir';
import { refuseInsideAgent } from './agent-guard';
import { createDemoTown } from '../main/demo/demo-town';
import { rendererDir } from '../main/engine/resources';
import { WebHost } from '../main/hosts/web-host';
import { attach } from './attach';
import * as fmt from './format';

class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
const GLOBAL: Options = { town: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };

interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

function parse(argv: string[], options: Options = {}): Parsed {
  try {
    const r = parseArgs({ args: argv, options: { ...GLOBAL, ...options }, allowPositionals: true, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []);
function int(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${flag} expects a whole number, got ${String(v)}`);
  return n;
}

function townDirFrom(values: Parsed['values']): string {
  const dir = str(values.town) ?? process.env.TOWN_DIR;
  if (!dir) throw new UsageError('no town: pass --town DIR or set TOWN_DIR');
  return path.resolve(dir);
}

/** Calls the engine: over the socket when one serves the town, else (for planning) in-process. */
class Connection {
  private socket: SocketClient | null = null;
  private offline: Engine | null = null;

  constructor(private readonly dir: string, private readonly allowOffline: boolean) {}

  async call<M extends ApiMethod>(method: M, params: ApiInput<M>): Promise<ApiOutput<M>> {
    const paths = townPaths(this.dir);
    if (!this.offline) {
      // An agent's own token; the overseer's only outside agents (and never offline inside one).
      const agentToken = process.env.TOWN_TOKEN || null;
      const token = agentToken ?? overseerToken(paths);
      if (token) {
        this.socket ??= new SocketClient(paths.socket, token);
        try {
          return await typedClient(this.socket).call(method, params);
        } catch (err) {
          if (!(err instanceof EngineNotRunningError) || !this.allowOffline || agentToken) throw err;
        }
      }
      if (!isTown(this.dir)) throw new UsageError(`${this.dir} is not a town (create one with \`town init ${this.dir}\`)`);
      if (!token && !this.allowOffline) throw new UsageError(`cannot read the overseer token in ${paths.token}`);
      this.offline = Engine.open({ townDir: this.dir });
    }
    return typedClient(this.offline.client() as Transport).call(method, params);
  }

  close() {
    this.socket?.close();
    this.offline?.closeOffline();
  }
}

/** The overseer's token, refused inside an agent session. */
function overseerToken(paths: TownPaths): string | null {
  refuseInsideAgent("use the overseer's token");
  return readOverseerToken(paths);
}

function print(json: boolean, value: unknown, human: () => string) {
  process.stdout.write((json ? JSON.stringify(value, null, 2) : human()) + '\n');
}

const HELP = `town — drive an Overseer town

Usage: town [--town DIR] [--json] COMMAND ...
  The town is --town DIR, else $TOWN_DIR.

Town:       init DIR · demo DIR · serve [--host H] [--port N] [--no-web] · status · config [get|set KEY VALUE]
Rigs:       rig add NAME PATH [--test CMD] [--setup CMD] [--branch B] [--prefix P]
                [--max-polecats N] [--runtime scripted|shell] [--command TEMPLATE]
            rig list
Beads:      bead create --rig R --title T [--body B] [--priority 0-4] [--scenario S] [--after ID]... [--label L]...
            bead list [--rig R] [--status S] [--label L] · bead show ID
            bead update ID [--title T] [--body B] [--priority N] [--label L]... [--unlabel L]... [--scenario S]
            bead close ID [--reason R] · bead reopen ID
            dep add BEAD DEPENDS_ON
Convoys:    convoy create --title T [BEAD...] · convoy add CONVOY BEAD... · convoy start CONVOY
            convoy list · convoy show ID
Agents:     sling BEAD [RIG|AGENT] · agents · attach AGENT · stop AGENT · nudge AGENT TEXT
            mr list · events [--since SEQ] [--limit N]
In agents:  prime · hook · done [--status completed|escalated|deferred] [--summary S]
            mail send TO --subject S --body B · mail inbox · bead create/show/update

Attach detaches with Ctrl-]. Planning commands work with no engine running; the rest need \`town serve\`.`;

/** Global flags may come before the command: `town --town DIR bead list`. */
function hoistGlobalFlags(argv: string[]): string[] {
  const front: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i].startsWith('--')) {
    const flag = argv[i];
    if (flag === '--town') {
      front.push(flag, argv[i + 1] ?? '');
      i += 2;
    } else if (flag.startsWith('--town=') || flag === '--json') {
      front.push(flag);
      i++;
    } else break;
  }
  const [cmd, ...rest] = argv.slice(i);
  return cmd === undefined ? front : [cmd, ...rest, ...front];
}

async function run(input: string[]): Promise<number> {
  const argv = hoistGlobalFlags(input);
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(HELP + '\n');
    return 0;
  }

  if (cmd === 'init' || cmd === 'demo') {
    const a = parse(rest);
    const dir = a.positionals[0] ?? str(a.values.town);
    if (!dir) throw new UsageError(`usage: town ${cmd} DIR`);
    refuseInsideAgent(`create a town`);
    if (cmd === 'init') {
      if (isTown(dir)) throw new UsageError(`${path.resolve(dir)} is already a town`);
      // An existing directory keeps its mode unless tightened: worktrees and logs are private.
      const tightened = ensureTownDir(townPaths(dir));
      Engine.open({ townDir: dir }).closeOffline();
      print(!!a.values.json, { town: path.resolve(dir), tightened }, () =>
        [...tightened, `created town ${path.resolve(dir)}`, `next: town --town ${dir} rig add NAME PATH --test "npm test"`].join('\n'),
      );
    } else {
      const demo = await createDemoTown(dir);
      print(!!a.values.json, demo, () =>
        [
          `created the demo town in ${demo.townDir}`,
          `  rig "sample" → ${demo.repo}`,
          `  convoy ${demo.convoy} (staged) with ${demo.beads.slice(0, 3).join(', ')}`,
          '',
          `start it:   town --town ${dir} serve`,
          `then:       town --town ${dir} convoy start ${demo.convoy}`,
        ].join('\n'),
      );
    }
    return 0;
  }

  if (cmd === 'serve') return serve(rest);

  if (cmd === 'attach') {
    const a = parse(rest);
    const agent = a.positionals[0];
    if (!agent) throw new UsageError('usage: town attach AGENT');
    const paths = townPaths(townDirFrom(a.values));
    const token = overseerToken(paths);
    if (!token) throw new UsageError(`cannot read the overseer token in ${paths.token}`);
    return attach(paths.socket, token, agent);
  }

  const group = ['rig', 'bead', 'convoy', 'dep', 'mail', 'config', 'mr'].includes(cmd) ? rest[0] : undefined;
  const args = group !== undefined ? rest.slice(1) : rest;
  const planning = ['rig', 'bead', 'convoy', 'dep', 'config', 'events', 'sling', 'agents', 'mr'].includes(cmd);
  const probe = parse(args, COMMAND_OPTIONS);
  const conn = new Connection(townDirFrom(probe.values), planning);
  try {
    return await dispatch(conn, cmd, group, args);
  } finally {
    conn.close();
  }
}

const COMMAND_OPTIONS: Options = {
  rig: { type: 'string' }, title: { type: 'string' }, body: { type: 'string' }, priority: { type: 'string' },
  scenario: { type: 'string' }, after: { type: 'string', multiple: true }, label: { type: 'string', multiple: true },
  unlabel: { type: 'string', multiple: true }, status: { type: 'string' }, assignee: { type: 'string' }, reason: { type: 'string' },
  test: { type: 'string' }, setup: { type: 'string' }, branch: { type: 'string' }, prefix: { type: 'string' },
  'max-polecats': { type: 'string' }, runtime: { type: 'string' }, command: { type: 'string' }, 'auto-dispatch': { type: 'boolean' },
  summary: { type: 'string' }, bead: { type: 'string' }, subject: { type: 'string' }, unread: { type: 'boolean' },
  type: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' },
};

async function dispatch(conn: Connection, cmd: string, group: string | undefined, args: string[]): Promise<number> {
  const a = parse(args, COMMAND_OPTIONS);
  const v = a.values;
  const json = !!v.json;
  const [p0, p1] = a.positionals;
  const need = (x: string | undefined, usage: string) => {
    if (!x) throw new UsageError(`usage: town ${usage}`);
    return x;
  };

  switch (`${cmd}${group !== undefined ? ` ${group}` : ''}`) {
    case 'status': {
      const s = await conn.call('town.status', {});
      print(json, s, () => fmt.statusText(s));
      return 0;
    }
    case 'config get':
    case 'config': {
      const c = await conn.call('town.config', {});
      print(json, c, () => Object.entries(c).map(([k, val]) => `${k} = ${JSON.stringify(val)}`).join('\n'));
      return 0;
    }
    case 'config set': {
      const key = need(p0, 'config set KEY VALUE');
      const raw = need(p1, 'config set KEY VALUE');
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
      const c = await conn.call('town.config', { set: { [key]: value } });
      print(json, c, () => `${key} = ${JSON.stringify(c[key])}`);
      return 0;
    }
    case 'rig add': {
      const rig = await conn.call('rig.add', {
        name: need(p0, 'rig add NAME PATH'),
        path: path.resolve(need(p1, 'rig add NAME PATH')),
        test: str(v.test), setup: str(v.setup), default_branch: str(v.branch), prefix: str(v.prefix),
        max_polecats: int(v['max-polecats'], 'max-polecats'), runtime: str(v.runtime) as 'scripted' | undefined,
        command: str(v.command), auto_dispatch: v['auto-dispatch'] === true ? true : undefined,
      });
      print(json, rig, () => `added rig ${rig.name} (prefix ${rig.prefix}, branch ${rig.default_branch})`);
      return 0;
    }
    case 'rig list': {
      const rigs = await conn.call('rig.list', {});
      print(json, rigs, () => fmt.rigTable(rigs));
      return 0;
    }
    case 'bead create': {
      const b = await conn.call('bead.create', {
        rig: str(v.rig), title: str(v.title) ?? '', body: str(v.body), priority: int(v.priority, 'priority'),
        scenario: str(v.scenario), after: list(v.after), labels: list(v.label), type: str(v.type) as 'task' | undefined,
      });
      print(json, b, () => b.id);
      return 0;
    }
    case 'bead list': {
      const beads = await conn.call('bead.list', { rig: str(v.rig), status: str(v.status) as 'open' | undefined, label: list(v.label)[0], assignee: str(v.assignee) });
      print(json, beads, () => fmt.beadTable(beads));
      return 0;
    }
    case 'bead show': {
      const b = await conn.call('bead.show', { id: need(p0, 'bead show ID') });
      print(json, b, () => fmt.beadDetail(b));
      return 0;
    }
    case 'bead update': {
      const b = await conn.call('bead.update', {
        id: need(p0, 'bead update ID ...'), title: str(v.title), body: str(v.body), priority: int(v.priority, 'priority'),
        add_labels: v.label ? list(v.label) : undefined, remove_labels: v.unlabel ? list(v.unlabel) : undefined, scenario: str(v.scenario),
      });
      print(json, b, () => `updated ${b.id}`);
      return 0;
    }
    case 'bead close': {
      const b = await conn.call('bead.close', { id: need(p0, 'bead close ID'), reason: str(v.reason) });
      print(json, b, () => `closed ${b.id}`);
      return 0;
    }
    case 'bead reopen': {
      const b = await conn.call('bead.reopen', { id: need(p0, 'bead reopen ID') });
      print(json, b, () => `reopened ${b.id}`);
      return 0;
    }
    case 'dep add': {
      const b = await conn.call('dep.add', { bead: need(p0, 'dep add BEAD DEPENDS_ON'), depends_on: need(p1, 'dep add BEAD DEPENDS_ON') });
      print(json, b, () => `${b.id} now waits for ${p1}`);
      return 0;
    }
    case 'convoy create': {
      const c = await conn.call('convoy.create', { title: str(v.title) ?? '', beads: a.positionals });
      print(json, c, () => c.id);
      return 0;
    }
    case 'convoy add': {
      const c = await conn.call('convoy.add', { convoy: need(p0, 'convoy add CONVOY BEAD...'), beads: a.positionals.slice(1) });
      print(json, c, () => fmt.convoyLine(c));
      return 0;
    }
    case 'convoy start': {
      const c = await conn.call('convoy.start', { convoy: need(p0, 'convoy start CONVOY') });
      print(json, c, () => `started ${fmt.convoyLine(c)}`);
      return 0;
    }
    case 'convoy list': {
      const cs = await conn.call('convoy.list', {});
      print(json, cs, () => fmt.convoyTable(cs));
      return 0;
    }
    case 'convoy show': {
      const c = await conn.call('convoy.show', { id: need(p0, 'convoy show ID') });
      const beads = await conn.call('bead.list', {});
      print(json, c, () => `${fmt.convoyLine(c)}\n${fmt.beadTable(beads.filter((b) => c.beads.includes(b.id)))}`);
      return 0;
    }
    case 'sling': {
      const b = await conn.call('sling', { bead: need(p0, 'sling BEAD [RIG|AGENT]'), target: p1 });
      print(json, b, () => `slung ${b.id} to ${b.slung_to}`);
      return 0;
    }
    case 'agents': {
      const agents = await conn.call('agent.list', {});
      print(json, agents, () => fmt.agentTable(agents));
      return 0;
    }
    case 'stop': {
      const agent = await conn.call('agent.stop', { agent: need(p0, 'stop AGENT') });
      print(json, agent, () => `stopped ${agent.id} (now ${agent.status})`);
      return 0;
    }
    case 'nudge': {
      const text = a.positionals.slice(1).join(' ');
      const r = await conn.call('agent.input', { agent: need(p0, 'nudge AGENT TEXT'), data: `${need(text, 'nudge AGENT TEXT')}\r` });
      print(json, r, () => `sent ${r.bytes} bytes to ${p0}`);
      return 0;
    }
    case 'mr list': {
      const mrs = await conn.call('mr.list', { rig: str(v.rig) });
      print(json, mrs, () => fmt.mrTable(mrs));
      return 0;
    }
    case 'events': {
      const events = await conn.call('events.list', { after: int(v.since, 'since'), limit: int(v.limit, 'limit') });
      print(json, events, () => events.map((e) => `${e.seq}\t${e.created_at}\t${e.type}\t${e.bead ?? ''}\t${e.agent ?? ''}`).join('\n'));
      return 0;
    }
    case 'prime': {
      const p = await conn.call('agent.prime', {});
      print(json, p, () => p.role_prompt);
      return 0;
    }
    case 'hook': {
      const h = await conn.call('agent.hook', {});
      print(json, h, () => (h.bead ? fmt.beadDetail(h.bead) : 'your hook is empty'));
      return 0;
    }
    case 'done': {
      const bead = str(v.bead) ?? process.env.TOWN_BEAD;
      if (!bead) throw new UsageError('no bead: run inside an agent session (TOWN_BEAD) or pass --bead ID');
      const r = await conn.call('agent.done', { bead, status: str(v.status) as 'completed' | undefined, summary: str(v.summary) });
      print(json, r, () => (r.merge_request ? `done: ${bead} queued for merge as ${r.merge_request.id}` : `done: ${bead} (${str(v.status) ?? 'completed'})`));
      return 0;
    }
    case 'mail send': {
      const m = await conn.call('mail.send', { to: need(p0, 'mail send TO --subject S --body B'), subject: str(v.subject) ?? '', body: str(v.body) });
      print(json, m, () => `sent ${m.id} to ${m.to}`);
      return 0;
    }
    case 'mail inbox': {
      const mail = await conn.call('mail.inbox', { unread: v.unread === true ? true : undefined });
      print(json, mail, () => fmt.mailTable(mail));
      return 0;
    }
  }
  throw new UsageError(`unknown command: town ${cmd}${group ? ` ${group}` : ''} (see town --help)`);
}

async function serve(argv: string[]): Promise<number> {
  const a = parse(argv, { host: { type: 'string' }, port: { type: 'string' }, 'no-web': { type: 'boolean' } });
  refuseInsideAgent('serve a town');
  const dir = townDirFrom(a.values);
  if (!isTown(dir)) throw new UsageError(`${dir} is not a town (create one with \`town init ${dir}\` or \`town demo ${dir}\`)`);
  const port = a.values.port === undefined ? 0 : Number(a.values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port takes a port number (0 picks a free one)');
  const host = str(a.values.host) ?? '127.0.0.1';
  const log = (line: string) => process.stderr.write(`[town] ${line}\n`);
  const engine = Engine.open({ townDir: dir, log });
  await engine.start();
  let web: WebHost | null = null;
  if (!a.values['no-web']) {
    web = new WebHost({ dispatcher: engine.dispatcher, streams: engine.streams, rendererDir: rendererDir(), host, port, log });
    try {
      await web.listen();
    } catch (err) {
      await engine.shutdown();
      throw new UsageError(`cannot listen on ${host}:${port}: ${(err as Error).message}`);
    }
  }
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
    process.stderr.write(`town: warning: the web UI listens on ${host}, reachable from other machines. Anyone with the URL's token controls this town and its agents.\n`);
  }
  process.stdout.write(`serving ${dir}\n  socket ${engine.paths.socket}\n${web ? `  open   ${web.url}\n` : ''}  stop with Ctrl-C\n`);
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping sessions and closing the town`);
      Promise.resolve(web?.close())
        .then(() => engine.shutdown())
        .then(
          () => resolve(0),
          (err) => {
            log(`shutdown failed: ${(err as Error).message}`);
            resolve(1);
          },
        );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    const json = process.argv.includes('--json');
    if (err instanceof UsageError) {
      process.stderr.write(`town: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof ApiError) {
      if (json) process.stderr.write(JSON.stringify({ error: err.toJSON() }) + '\n');
      else process.stderr.write(`town: ${err.message}${err.field ? ` [${err.field}]` : ''}\n`);
      process.exitCode = err.code === 'engine_not_running' ? 3 : 1;
    } else {
      process.stderr.write(`town: ${err.stack ?? err.message}\n`);
      process.exitCode = 1;
    }
  },
);

