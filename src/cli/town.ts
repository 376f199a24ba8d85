// `town`: the command line for overseers (humans in shells) and agents (in their PTYs).
// It talks to the running engine over the town's control socket; planning commands also
// work with no engine running, by opening the town directly. Inside an agent session the
// launcher (town-launcher.ts) runs the lean town-agent.ts instead: socket client only.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ApiInput, ApiMethod, ApiOutput } from '../shared/api';
import { typedClient, type Transport } from '../shared/typed-client';
import { EngineNotRunningError, SocketClient } from '../main/control/socket-client';
import { Engine } from '../main/engine/engine';
import { ensureTownDir, ensureWebToken, isTown, readOverseerToken, townPaths, TownLockedError, type TownPaths } from '../main/engine/town-dir';
import { refuseInsideAgent } from './agent-guard';
import { createDemoTown } from '../main/demo/demo-town';
import { rendererDir } from '../main/engine/resources';
import { WebHost } from '../main/hosts/web-host';
import { lastWebPort, rememberWebPort, webPortsToTry } from '../main/hosts/web-address';
import { isLoopbackBind } from '../main/hosts/bind-address';
import { str, wholeNumber } from './args';
import { attach } from './attach';
import { HELP, hoistGlobalFlags, isHelp, parse, parseCommand, townDirFrom } from './command-line';
import { dispatch } from './engine-commands';
import { townCommand } from './invocation';
import { CliError, EXIT, runCli, systemReason, UsageError } from './errors';
import { line, print, printableLines } from './printable';
import { forceStop } from './force-stop';
import { STOP_SIGNALS, stopSignalRouter, tolerateClosedTerminal, type StopSignal } from './stop-signals';


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


async function run(input: string[]): Promise<number> {
  const argv = hoistGlobalFlags(input);
  const [cmd, ...rest] = argv;
  if (isHelp(cmd)) {
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
        [...tightened.map((t) => line`${t}`), line`created town ${abs}`, line`next: ${townCommand()} --town ${dir} rig add NAME PATH --test "npm test"`].join('\n'),
      );
    } else {
      const demo = await creatingTown(abs, () => createDemoTown(abs));
      print(!!a.values.json, demo, () =>
        [
          line`created the demo town in ${demo.townDir}`,
          line`  rig "sample" → ${demo.repo}`,
          line`  convoy ${demo.convoy} (staged) with ${demo.beads.join(', ')}`,
          '',
          line`start it:   ${townCommand()} --town ${dir} serve`,
          line`then:       ${townCommand()} --town ${dir} convoy start ${demo.convoy}`,
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

  const { command, a } = parseCommand(cmd, rest);
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


async function serve(argv: string[]): Promise<number> {
  const a = parse(argv, 'serve', { host: { type: 'string' }, port: { type: 'string' }, 'no-web': { type: 'boolean' } });
  refuseInsideAgent('serve a town');
  const dir = townDirFrom(a.values);
  if (!isTown(dir)) throw new UsageError(`${dir} is not a town (create one with \`town init ${dir}\` or \`town demo ${dir}\`)`);
  const requestedPort = wholeNumber(a.values.port, '--port', { min: 0, max: 65535 });
  const host = str(a.values.host) ?? '127.0.0.1';
  tolerateClosedTerminal();
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
    const stop = (signal: StopSignal) => {
      const cause = signal === 'disconnect' ? 'the launcher is gone' : signal;
      log(`${cause}: stopping sessions and closing the town${signal === 'SIGINT' ? ' (Ctrl-C again to force it)' : ''}`);
      Promise.resolve(web?.close(`the town engine was stopped (${cause})`))
        .then(() => engine.shutdown())
        .then(
          () => resolve(0),
          (err) => {
            log(`shutdown failed: ${(err as Error).message}`);
            resolve(1);
          },
        );
    };
    const route = stopSignalRouter({ graceful: stop, forced: () => forceStop(engine, log) });
    for (const signal of STOP_SIGNALS) process.on(signal, () => route(signal));
    stopWithLauncher(() => route('disconnect'));
  });
}

/**
 * Started with an IPC channel (by `npm start`), the server stops when its launcher is gone,
 * even SIGKILLed: in a session of its own it would otherwise keep the town's lock and port.
 * The channel itself must not keep the process alive once the town is closed.
 */
function stopWithLauncher(stop: () => void) {
  if (!process.send) return;
  process.on('disconnect', stop);
  process.channel?.unref();
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

runCli(run);

