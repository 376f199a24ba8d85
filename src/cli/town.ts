// `town`: the command line for overseers (humans in shells) and agents (in their PTYs).
// It talks to the running engine over the town's control socket; planning commands also
// work with no engine running, by opening the town directly.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { typedClient, type ApiInput, type ApiMethod, type ApiOutput, type Transport } from '../shared/api';
import { describeEvent } from '../shared/event-text';
import { EngineNotRunningError, SocketClient } from '../main/control/socket-client';
import { Engine } from '../main/engine/engine';
import { ensureTownDir, ensureWebToken, isTown, readOverseerToken, townPaths, TownLockedError, type TownPaths } from '../main/engine/town-dir';
import { refuseInsideAgent } from './agent-guard';
import { createDemoTown } from '../main/demo/demo-town';
import { rendererDir } from '../main/engine/resources';
import { WebHost } from '../main/hosts/web-host';
import { lastWebPort, rememberWebPort, webPortsToTry } from '../main/hosts/web-address';
import { isLoopbackBind } from '../main/hosts/bind-address';
import { dollars, list, parse as parseWith, str, wholeNumber, type Options, type Parsed } from './args';
import { attach } from './attach';
import { exportBeads, importFile, importReport } from './interop';
import { COMMAND_OPTIONS, FLAGS, GROUPS } from './commands';
import { CliError, EXIT, failure, systemReason, UsageError } from './errors';
import * as fmt from './format';
import { jsonForTerminal, line, printableLines } from './printable';

const GLOBAL: Options = { town: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };

const parse = (argv: string[], command: string, options: Options = {}) => parseWith(argv, { ...GLOBAL, ...options }, command);

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
      if (!token && (!this.allowOffline || (await engineAnswers(paths.socket)))) {
        // An engine serves this town with a token we cannot see: never make a second one.
        throw new UsageError(`cannot read the overseer token in ${paths.token} (is OVERSEER_HOME the one the serving engine uses?)`);
      }
      this.offline = await openOffline(this.dir);
    }
    return typedClient(this.offline.client() as Transport).call(method, params);
  }

  close() {
    this.socket?.close();
    this.offline?.closeOffline();
  }
}

/** Something listens on the town's socket. */
function engineAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createConnection(socketPath);
    probe.once('connect', () => (probe.destroy(), resolve(true)));
    probe.once('error', () => resolve(false));
  });
}

/** The overseer's token, refused inside an agent session. */
function overseerToken(paths: TownPaths): string | null {
  refuseInsideAgent("use the overseer's token");
  return readOverseerToken(paths);
}

/** The last word on what reaches the terminal: whatever a formatter missed, no control character passes. */
/** `--setup-watch a,b`: a list of globs (blank entries dropped). */
function globList(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((g) => g.trim()).filter(Boolean);
}

function print(json: boolean, value: unknown, human: () => string) {
  process.stdout.write((json ? jsonForTerminal(value) : printableLines(human())) + '\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Opens the town in this process for a planning command. Another command may hold the lock
 * for a moment (two scripted `town bead create`s), so wait briefly before giving up.
 */
async function openOffline(dir: string): Promise<Engine> {
  const deadline = Date.now() + 2000;
  for (;;) {
    try {
      return Engine.open({ townDir: dir });
    } catch (err) {
      if (!(err instanceof TownLockedError)) throw err;
      if (Date.now() >= deadline) {
        throw new CliError(`town ${err.dir} is locked by process ${err.pid}, which is not serving it; wait for that process to exit, or stop it`, EXIT.noEngine);
      }
      await sleep(100);
    }
  }
}

const HELP = `town — drive an Overseer town

Usage: town [--town DIR] [--json] COMMAND ...
  The town is --town DIR, else $TOWN_DIR.

Town:       init DIR · demo DIR · serve [--host H] [--port N] [--no-web] · status · doctor · costs [--by agent|bead|convoy|rig]
            estop [--reason TEXT] (freeze: dispatch paused, every agent and gate stopped) · thaw
            config [list] · config get KEY · config set KEY VALUE   (durations 90s, 15m, 2h; lists 0,2m,5m)
Rigs:       rig add NAME PATH [--test CMD] [--setup CMD] [--setup-watch GLOB[,GLOB]] [--branch B] [--prefix P]
                [--remote NAME] [--max-polecats N] [--runtime claude|codex|scripted|shell] [--command TEMPLATE]
                [--permissions ask|auto|bypass] [--model M] [--budget USD]
            rig update NAME [--setup CMD] [--setup-watch GLOB[,GLOB]|default] [--branch B] [--max-polecats N] [--remote NAME|none]
                [--runtime R] [--command TEMPLATE] [--permissions ask|auto|bypass] [--model M|default] [--budget USD|none]
            rig list
Beads:      bead create --rig R --title T [--body B] [--priority 0-4] [--type T] [--scenario S] [--after ID]... [--label L]... [--runtime R]
            bead list [--rig R] [--status S] [--label L] [--ready] [--all] · bead show ID
            import FILE [--rig R] [--strict]   (bd / Gas Town JSONL) · export [--rig R] [--out FILE]
            bead update ID [--title T] [--body B] [--priority N] [--label L]... [--unlabel L]... [--scenario S]
            bead close ID [--reason R] · bead reopen ID
            dep add BEAD DEPENDS_ON
Convoys:    convoy create --title T [--integration] [--budget USD] [BEAD...] · convoy update CONVOY --budget USD|none
            convoy add CONVOY BEAD... · convoy start CONVOY
            convoy list · convoy show ID
Agents:     sling BEAD [RIG|AGENT] · agents · attach AGENT · nudge AGENT TEXT
            stop AGENT [--no-hold]   (holds its bead out of dispatch; --no-hold lets it be dispatched again)
            restart AGENT [--fresh] · hold BEAD [--reason R] · release BEAD
            events [--since SEQ] [--limit N]
Merge queue: mq list [--rig R] (mr list) · mq show MR · mq move MR POSITION (1 = next)
            mq retry MR (a failed or blocked MR back to the queue) · mq reject MR --reason S (its bead reopened)
Problems:   escalations [--all] · ack ID · mail inbox [--unread] · mail read ID · mail ack ID
In agents:  prime · hook · done [--status completed|escalated|deferred] [--summary S] · signal waiting|working [MESSAGE]
            mail send TO --subject S --body B · mail inbox · mail read ID · mail ack ID · bead create/show/update
            escalate --severity low|medium|high|critical --reason R [--bead B] TEXT

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
    const a = parse(rest, cmd);
    const dir = a.positionals[0] ?? str(a.values.town);
    if (!dir) throw new UsageError(`usage: town ${cmd} DIR`);
    const abs = path.resolve(dir);
    refuseInsideAgent(`create a town`);
    if (isTown(abs)) throw new UsageError(`${abs} is already a town`);
    if (cmd === 'init') {
      // An existing directory keeps its mode unless tightened: worktrees and logs are private.
      const tightened = await creatingTown(abs, async () => {
        const changed = ensureTownDir(townPaths(abs));
        Engine.open({ townDir: abs }).closeOffline();
        return changed;
      });
      print(!!a.values.json, { town: abs, tightened }, () =>
        [...tightened.map((t) => line`${t}`), line`created town ${abs}`, line`next: town --town ${dir} rig add NAME PATH --test "npm test"`].join('\n'),
      );
    } else {
      const demo = await creatingTown(abs, () => createDemoTown(abs));
      print(!!a.values.json, demo, () =>
        [
          line`created the demo town in ${demo.townDir}`,
          line`  rig "sample" → ${demo.repo}`,
          line`  convoy ${demo.convoy} (staged) with ${demo.beads.join(', ')}`,
          '',
          line`start it:   town --town ${dir} serve`,
          line`then:       town --town ${dir} convoy start ${demo.convoy}`,
        ].join('\n'),
      );
    }
    return 0;
  }

  if (cmd === 'serve') return serve(rest);

  if (cmd === 'attach') {
    const a = parse(rest, cmd);
    const agent = a.positionals[0];
    if (!agent) throw new UsageError('usage: town attach AGENT');
    const paths = townPaths(townDirFrom(a.values));
    const token = overseerToken(paths);
    if (!token) {
      if (!isTown(paths.dir)) throw new UsageError(`${paths.dir} is not a town (create one with \`town init ${paths.dir}\`)`);
      throw new UsageError(`cannot read the overseer token in ${paths.token}`);
    }
    return attach(paths.socket, token, agent);
  }

  const group = GROUPS.includes(cmd) && rest[0] !== undefined && !rest[0].startsWith('-') ? rest[0] : undefined;
  const command = group !== undefined ? `${cmd} ${group}` : cmd;
  const flags = Object.hasOwn(FLAGS, command) ? FLAGS[command] : undefined;
  if (!flags && GROUPS.includes(cmd)) {
    const subcommands = Object.keys(FLAGS).filter((c) => c.startsWith(`${cmd} `)).map((c) => c.slice(cmd.length + 1));
    throw new UsageError(`${group === undefined ? `town ${cmd} needs a subcommand` : `unknown command: town ${command}`}: ${subcommands.join(', ')}`);
  }
  if (!flags) throw new UsageError(`unknown command: town ${command} (see town --help)`);
  const args = group !== undefined ? rest.slice(1) : rest;
  const a = parse(args, command, Object.fromEntries(flags.map((f) => [f, COMMAND_OPTIONS[f]])));
  if (a.values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const planning = ['import', 'export', 'rig', 'bead', 'convoy', 'dep', 'config', 'events', 'sling', 'agents', 'mr', 'mq', 'escalations', 'ack', 'hold', 'release'].includes(cmd);
  const conn = new Connection(townDirFrom(a.values), planning);
  try {
    return await dispatch(conn, command, a);
  } finally {
    conn.close();
  }
}

/** Runs what creates a town at `dir`; a directory that cannot hold one is named in one sentence. */
async function creatingTown<T>(dir: string, create: () => Promise<T>): Promise<T> {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new UsageError(`cannot create a town at ${dir}: a file is in the way`);
  try {
    return await create();
  } catch (err) {
    const reason = systemReason(err);
    if (reason) throw new UsageError(`cannot create a town at ${dir}: ${reason}`);
    throw err;
  }
}

async function dispatch(conn: Connection, command: string, a: Parsed): Promise<number> {
  const v = a.values;
  const json = !!v.json;
  const [p0, p1] = a.positionals;
  const need = (x: string | undefined, usage: string) => {
    if (!x) throw new UsageError(`usage: town ${usage}`);
    return x;
  };

  switch (command) {
    case 'status': {
      const s = await conn.call('town.status', {});
      print(json, s, () => fmt.statusText(s));
      return 0;
    }
    case 'doctor': {
      const d = await conn.call('town.doctor', {});
      print(json, d, () => fmt.doctorText(d));
      return d.invariants.violations.length ? 1 : 0;
    }
    case 'costs': {
      const by = str(v.by) ?? 'agent';
      if (!['agent', 'bead', 'convoy', 'rig'].includes(by)) throw new UsageError(`--by expects agent, bead, convoy or rig, got "${by}"`);
      const report = await conn.call('costs.report', { by: by as 'agent' });
      print(json, report, () => fmt.costsText(report));
      return 0;
    }
    // Configuration: `town config [list]`, `get KEY`, `set KEY VALUE` (keys or their old aliases).
    case 'config':
    case 'config list': {
      const { settings, dispatch_paused, town_prefix } = await conn.call('town.config', {});
      print(json, { settings, dispatch_paused, town_prefix }, () =>
        [fmt.configTable(settings), '', line`dispatch_paused = ${dispatch_paused}`, line`town_prefix = ${town_prefix}`].join('\n'),
      );
      return 0;
    }
    case 'config get': {
      const key = need(p0, 'config get KEY');
      const c = await conn.call('town.config', { get: key });
      const setting = c.settings[0];
      if (setting) print(json, setting, () => fmt.settingLine(setting));
      else print(json, { key, value: townField(c, key) }, () => line`${key} = ${townField(c, key)}`);
      return 0;
    }
    case 'config set': {
      const key = need(p0, 'config set KEY VALUE');
      const raw = need(p1, 'config set KEY VALUE');
      // Values are written as in the shell (`15m`, `0,2m,5m`, `bwrap`); JSON (`[0]`, `true`) still reads as before.
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
      const c = await conn.call('town.config', { set: { [key]: value } });
      const change = c.changed[0];
      const setting = c.settings.find((x) => x.key === change.key);
      print(json, setting ? { ...setting, was: change.was } : { key: change.key, value: townField(c, change.key), was: change.was }, () =>
        line`${change.key} = ${change.now} (was ${change.was})`,
      );
      return 0;
    }
    case 'rig add': {
      const rig = await conn.call('rig.add', {
        name: need(p0, 'rig add NAME PATH'),
        path: path.resolve(need(p1, 'rig add NAME PATH')),
        test: str(v.test), setup: str(v.setup), default_branch: str(v.branch), prefix: str(v.prefix),
        max_polecats: wholeNumber(v['max-polecats'], '--max-polecats'), runtime: str(v.runtime) as 'scripted' | undefined,
        command: str(v.command), auto_dispatch: v['auto-dispatch'] === true ? true : undefined,
        setup_watch: globList(str(v['setup-watch'])) ?? undefined, remote: str(v.remote),
        permissions: str(v.permissions) as 'ask' | undefined, model: str(v.model), budget_usd: dollars(v.budget, '--budget'),
      });
      print(json, rig, () => line`added rig ${rig.name} (prefix ${rig.prefix}, branch ${rig.default_branch}, runtime ${fmt.runtimeSummary(rig)})`);
      return 0;
    }
    case 'rig update': {
      const watch = str(v['setup-watch']);
      const rig = await conn.call('rig.update', {
        name: need(p0, 'rig update NAME'),
        setup: str(v.setup), default_branch: str(v.branch), max_polecats: wholeNumber(v['max-polecats'], '--max-polecats'),
        setup_watch: watch === undefined ? undefined : watch === 'default' ? null : globList(watch),
        remote: str(v.remote) === 'none' ? null : str(v.remote),
        runtime: str(v.runtime) as 'scripted' | undefined, command: str(v.command),
        permissions: str(v.permissions) as 'ask' | undefined,
        model: str(v.model) === 'default' ? null : str(v.model),
        budget_usd: str(v.budget) === 'none' ? null : dollars(v.budget, '--budget'),
      });
      print(json, rig, () =>
        [
          line`updated rig ${rig.name}: runtime ${fmt.runtimeSummary(rig)}`,
          line`setup ${rig.setup_command ?? 'none'}, re-run in the refinery when ${rig.setup_watch.join(', ') || 'nothing'} changes`,
        ].join('\n'),
      );
      return 0;
    }
    case 'rig list': {
      const rigs = await conn.call('rig.list', {});
      print(json, rigs, () => fmt.rigTable(rigs));
      return 0;
    }
    case 'bead create': {
      const b = await conn.call('bead.create', {
        rig: str(v.rig), title: str(v.title) ?? '', body: str(v.body), priority: wholeNumber(v.priority, '--priority'),
        scenario: str(v.scenario), after: list(v.after), labels: list(v.label), type: str(v.type) as 'task' | undefined,
        runtime: str(v.runtime) as 'claude' | undefined,
      });
      print(json, b, () => line`${b.id}`);
      return 0;
    }
    case 'bead list': {
      const beads = await conn.call('bead.list', {
        rig: str(v.rig), status: str(v.status) as 'open' | undefined, label: list(v.label)[0], assignee: str(v.assignee), ready: !!v.ready, all: !!v.all,
      });
      print(json, beads, () => fmt.beadTable(beads));
      return 0;
    }
    case 'import': {
      const summary = await importFile(conn, need(p0, 'import FILE [--rig R] [--strict]'), { rig: str(v.rig), strict: !!v.strict });
      print(json, summary, () => importReport(summary));
      return 0;
    }
    case 'export': {
      const beads = await exportBeads(conn, { rig: str(v.rig), out: str(v.out) });
      if (v.out) print(json, { file: path.resolve(str(v.out)!), beads }, () => line`wrote ${beads} beads to ${str(v.out)}`);
      return 0;
    }
    case 'bead show': {
      const b = await conn.call('bead.show', { id: need(p0, 'bead show ID') });
      print(json, b, () => fmt.beadDetail(b));
      return 0;
    }
    case 'bead update': {
      const b = await conn.call('bead.update', {
        id: need(p0, 'bead update ID ...'), title: str(v.title), body: str(v.body), priority: wholeNumber(v.priority, '--priority'),
        add_labels: v.label ? list(v.label) : undefined, remove_labels: v.unlabel ? list(v.unlabel) : undefined, scenario: str(v.scenario),
      });
      print(json, b, () => line`updated ${b.id}`);
      return 0;
    }
    case 'bead close': {
      const b = await conn.call('bead.close', { id: need(p0, 'bead close ID'), reason: str(v.reason) });
      print(json, b, () => line`closed ${b.id}`);
      return 0;
    }
    case 'bead reopen': {
      const b = await conn.call('bead.reopen', { id: need(p0, 'bead reopen ID') });
      print(json, b, () => line`reopened ${b.id}`);
      return 0;
    }
    case 'dep add': {
      const b = await conn.call('dep.add', { bead: need(p0, 'dep add BEAD DEPENDS_ON'), depends_on: need(p1, 'dep add BEAD DEPENDS_ON') });
      print(json, b, () => line`${b.id} now waits for ${p1}`);
      return 0;
    }
    case 'convoy create': {
      const c = await conn.call('convoy.create', {
        title: str(v.title) ?? '', beads: a.positionals, mode: v.integration === true ? 'integration' : undefined, budget_usd: dollars(v.budget, '--budget'),
      });
      print(json, c, () => line`${c.id}`);
      return 0;
    }
    case 'convoy update': {
      const convoy = need(p0, 'convoy update CONVOY --budget USD|none');
      if (v.budget === undefined) throw new UsageError('convoy update needs --budget USD|none');
      const c = await conn.call('convoy.update', { convoy, budget_usd: str(v.budget) === 'none' ? null : dollars(v.budget, '--budget')! });
      print(json, c, () => fmt.convoyLine(c));
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
      print(json, b, () => line`slung ${b.id} to ${b.slung_to}`);
      return 0;
    }
    case 'agents': {
      const agents = await conn.call('agent.list', {});
      print(json, agents, () => fmt.agentTable(agents));
      return 0;
    }
    case 'stop': {
      const hook = (await conn.call('agent.list', {})).find((x) => x.id === p0)?.hook ?? null;
      const hold = v['no-hold'] !== true;
      const agent = await conn.call('agent.stop', { agent: need(p0, 'stop AGENT [--no-hold]'), hold });
      print(json, agent, () =>
        line`stopped ${agent.id} (now ${agent.status})` +
        (!hook ? '' : hold ? line`\n${hook} is held: it stays open and is not dispatched until you run: town release ${hook}` : line`\n${hook} is open again and will be dispatched`),
      );
      return 0;
    }
    case 'estop': {
      const r = await conn.call('town.estop', { reason: str(v.reason) });
      print(json, r, () => fmt.freezeText(r, 'frozen'));
      return r.failed.length > 0 ? 1 : 0;
    }
    case 'thaw': {
      const r = await conn.call('town.thaw', {});
      print(json, r, () => fmt.freezeText(r, 'thawed'));
      return r.failed.length > 0 ? 1 : 0;
    }
    case 'restart': {
      const fresh = v.fresh === true;
      const agent = await conn.call('agent.restart', { agent: need(p0, 'restart AGENT [--fresh]'), fresh });
      print(json, agent, () => line`restarting ${agent.id} on ${agent.hook ?? 'its bead'}${fresh ? ', in a new conversation' : ''}`);
      return 0;
    }
    case 'hold': {
      const b = await conn.call('bead.hold', { id: need(p0, 'hold BEAD [--reason R]'), reason: str(v.reason) });
      print(json, b, () => line`${b.id} is held; release it with: town release ${b.id}`);
      return 0;
    }
    case 'release': {
      const b = await conn.call('bead.release', { id: need(p0, 'release BEAD') });
      print(json, b, () => line`released ${b.id}; it can be dispatched again`);
      return 0;
    }
    case 'nudge': {
      const text = a.positionals.slice(1).join(' ');
      const r = await conn.call('agent.input', { agent: need(p0, 'nudge AGENT TEXT'), data: `${need(text, 'nudge AGENT TEXT')}\r` });
      print(json, r, () => line`sent ${r.bytes} bytes to ${p0}`);
      return 0;
    }
    case 'mr list':
    case 'mq list': {
      const mrs = await conn.call('mr.list', { rig: str(v.rig) });
      print(json, mrs, () => fmt.mqTable(mrs));
      return 0;
    }
    case 'mq show': {
      const mr = await conn.call('mr.show', { mr: need(p0, 'mq show MR') });
      print(json, mr, () => fmt.mqDetail(mr));
      return 0;
    }
    case 'mq move': {
      const mr = need(p0, 'mq move MR POSITION');
      const position = wholeNumber(need(p1, 'mq move MR POSITION'), 'POSITION', { min: 1, max: 100_000 })!;
      const queue = await conn.call('mr.move', { mr, position });
      print(json, queue, () => `${line`${mr} moved to place ${queue.findIndex((e) => e.id === mr) + 1}`}\n${fmt.mqTable(queue)}`);
      return 0;
    }
    case 'mq retry': {
      const mr = await conn.call('mr.retry', { mr: need(p0, 'mq retry MR') });
      print(json, mr, () => line`${mr.id} is back in the queue at place ${mr.position ?? '?'}; ${mr.bead} is in review again`);
      return 0;
    }
    case 'mq reject': {
      const reason = str(v.reason);
      const mr = await conn.call('mr.reject', { mr: need(p0, 'mq reject MR --reason S'), reason: need(reason, 'mq reject MR --reason S') });
      print(json, mr, () => line`${mr.id} rejected; ${mr.bead} reopened: ${reason}`);
      return 0;
    }
    case 'events': {
      const events = await conn.call('events.list', { after: wholeNumber(v.since, '--since', { min: 0 }), limit: wholeNumber(v.limit, '--limit', { min: 1, max: 10_000 }) });
      print(json, events, () => events.map((e) => [e.seq, e.created_at, e.type, e.bead ?? '', e.agent ?? '', describeEvent(e.type, e.payload)].map((f) => line`${f}`).join('\t')).join('\n'));
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
      print(json, r, () => (r.merge_request ? line`done: ${bead} queued for merge as ${r.merge_request.id}` : line`done: ${bead} (${str(v.status) ?? 'completed'})`));
      return 0;
    }
    case 'signal': {
      const state = need(p0, 'signal waiting|working [MESSAGE]');
      if (state !== 'waiting' && state !== 'working') throw new UsageError(`signal: state must be waiting or working, not "${state}"`);
      await conn.call('agent.signal', { state, message: a.positionals.slice(1).join(' ') || undefined });
      print(json, { state }, () => line`signalled: ${state}`);
      return 0;
    }
    case 'mail send': {
      const m = await conn.call('mail.send', { to: need(p0, 'mail send TO --subject S --body B'), subject: str(v.subject) ?? '', body: str(v.body) });
      print(json, m, () => line`sent ${m.id} to ${m.to}`);
      return 0;
    }
    case 'mail inbox': {
      const mail = await conn.call('mail.inbox', { unread: v.unread === true ? true : undefined });
      print(json, mail, () => fmt.mailTable(mail));
      return 0;
    }
    case 'mail read': {
      const m = await conn.call('mail.read', { id: need(p0, 'mail read ID') });
      print(json, m, () => fmt.mailDetail(m));
      return 0;
    }
    case 'mail ack': {
      const m = await conn.call('mail.ack', { id: need(p0, 'mail ack ID') });
      print(json, m, () => line`acked ${m.id}`);
      return 0;
    }
    case 'escalate': {
      const usage = 'escalate --severity low|medium|high|critical --reason R [--bead B] TEXT';
      const r = await conn.call('escalation.raise', {
        severity: str(v.severity) as 'high' | undefined, reason: need(str(v.reason), usage), bead: str(v.bead), body: need(a.positionals.join(' '), usage),
      });
      print(json, r, () => (r.deduplicated ? line`already escalated as ${r.escalation.id} (not acked yet, or within the cooldown)` : line`escalated ${r.escalation.id} (${r.escalation.severity})`));
      return 0;
    }
    case 'escalations': {
      const list = await conn.call('escalation.list', { all: v.all === true ? true : undefined });
      print(json, list, () => (list.length === 0 && !v.all ? 'no unacked escalations' : fmt.escalationTable(list)));
      return 0;
    }
    case 'ack': {
      const e = await conn.call('escalation.ack', { id: need(p0, 'ack ID') });
      print(json, e, () => line`acked ${e.id} (${e.reason})`);
      return 0;
    }
  }
  throw new UsageError(`unknown command: town ${command} (see town --help)`);
}

/** `dispatch_paused` and `town_prefix`: the town-wide values `town.config` answers beside the settings. */
const townField = (c: ApiOutput<'town.config'>, key: string) => (key === 'dispatch_paused' ? c.dispatch_paused : c.town_prefix);

async function serve(argv: string[]): Promise<number> {
  const a = parse(argv, 'serve', { host: { type: 'string' }, port: { type: 'string' }, 'no-web': { type: 'boolean' } });
  refuseInsideAgent('serve a town');
  const dir = townDirFrom(a.values);
  if (!isTown(dir)) throw new UsageError(`${dir} is not a town (create one with \`town init ${dir}\` or \`town demo ${dir}\`)`);
  const requestedPort = wholeNumber(a.values.port, '--port', { min: 0, max: 65535 });
  const host = str(a.values.host) ?? '127.0.0.1';
  const log = (text: string) => process.stderr.write(`[town] ${printableLines(text)}\n`);
  const engine = openToServe(dir, log);
  try {
    await engine.start();
  } catch (err) {
    // A half-started engine keeps timers alive: close it, or the process never exits. Closing
    // may trip on the same cause (the socket path); the start's error is the one to report.
    await engine.shutdown().catch(() => {});
    throw err;
  }
  let web: WebHost | null = null;
  if (!a.values['no-web']) {
    // The town's last port and its lasting web token (made under the lock the engine holds):
    // a tab left open reconnects by itself to the restarted engine.
    const last = lastWebPort(engine.paths);
    const token = ensureWebToken(engine.paths);
    web = new WebHost({ dispatcher: engine.dispatcher, streams: engine.streams, rendererDir: rendererDir(), host, token, log });
    const ports = webPortsToTry(requestedPort, last);
    try {
      await web.listen(ports);
    } catch (err) {
      await engine.shutdown();
      throw new UsageError(`cannot listen on ${host}:${ports[ports.length - 1] || 'a free port'}: ${(err as Error).message}`);
    }
    if (requestedPort === undefined && last !== null && web.port !== last) {
      process.stderr.write(`town: port ${last}, where this town was served last, is in use by another program; serving on port ${web.port} instead (tabs open on the old port need the new URL)\n`);
    }
    rememberWebPort(engine.paths, web.port);
  }
  if (!isLoopbackBind(host)) {
    process.stderr.write(`town: warning: the web UI listens on ${host}, reachable from other machines. Anyone with the URL's token controls this town and its agents.\n`);
  }
  process.stdout.write(line`serving ${dir}` + line`\n  socket ${engine.paths.socket}\n` + (web ? `  open   ${web.url}\n` : '') + '  stop with Ctrl-C\n');
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping sessions and closing the town`);
      Promise.resolve(web?.close(`the town engine was stopped (${signal})`))
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

// sockaddr_un holds 108 bytes with the terminating NUL; a longer path fails obscurely at listen.
const MAX_SOCKET_PATH = 107;

/** `town serve` takes the town's lock; a second server is told who has it. */
function openToServe(dir: string, log: (text: string) => void): Engine {
  const socket = townPaths(dir).socket;
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw new UsageError(`the town's socket path ${socket} is longer than the ${MAX_SOCKET_PATH} bytes a Unix socket allows; move the town to a shorter path`);
  }
  try {
    return Engine.open({ townDir: dir, log });
  } catch (err) {
    if (err instanceof TownLockedError) throw new CliError(`town ${err.dir} is already open in process ${err.pid} (served, or busy with a command); stop that process first`, EXIT.refused);
    throw err;
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const { text, code } = failure(err, process.argv.includes('--json'));
    process.stderr.write(text + '\n');
    process.exitCode = code;
  },
);

