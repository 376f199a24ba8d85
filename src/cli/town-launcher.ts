// out/cli/town.cjs, what `town` runs (bin/town.cjs and the agents' <town>/bin/town shim).
// Inside an agent session (TOWN_TOKEN set) every command goes over the socket, so the lean
// agent CLI runs; everywhere else the overseer's CLI, with the engine for offline planning.
import path from 'node:path';

require(path.join(__dirname, process.env.TOWN_TOKEN ? 'town-agent.cjs' : 'town-full.cjs'));
