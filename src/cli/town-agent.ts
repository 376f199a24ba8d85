// `town` inside an agent session (TOWN_TOKEN set), chosen by town-launcher.ts. Every call
// goes over the control socket with the agent's own token (an agent never opens the town
// itself), so this entry loads the socket client and nothing of the engine, SQLite, PTYs,
// git or the API's schemas: agents run `town hook`, `done` and `mail` all the time.
// test/agent-cli-lean.test.ts checks what it loads.
import { SocketClient } from '../main/control/socket-client';
import { townPaths } from '../main/engine/town-dir';
import { typedClient } from '../shared/typed-client';
import { refuseInsideAgent } from './agent-guard';
import { HELP, hoistGlobalFlags, isHelp, parseCommand, townDirFrom } from './command-line';
import { dispatch } from './engine-commands';
import { runCli } from './errors';

/** The overseer's commands that are never run from an agent session, and what each would do. */
const OVERSEER_ONLY: Record<string, string> = { init: 'create a town', demo: 'create a town', serve: 'serve a town', attach: "use the overseer's token" };

async function run(input: string[]): Promise<number> {
  const [cmd, ...rest] = hoistGlobalFlags(input);
  if (isHelp(cmd)) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (Object.hasOwn(OVERSEER_ONLY, cmd)) {
    refuseInsideAgent(OVERSEER_ONLY[cmd]);
    throw new Error(`town ${cmd} is not run from an agent session`);
  }
  const { command, a } = parseCommand(cmd, rest);
  if (a.values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const socket = new SocketClient(townPaths(townDirFrom(a.values)).socket, process.env.TOWN_TOKEN ?? '');
  try {
    return await dispatch(typedClient(socket), command, a);
  } finally {
    socket.close();
  }
}

runCli(run);
