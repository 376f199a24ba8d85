// The engine's API: every method of the contract in src/shared/api.ts, gathered from the
// command modules. Inputs arrive validated; every write is one store transaction.
import { agentHandlers } from './agents';
import { beadHandlers } from './beads';
import { configHandlers } from './config';
import type { Handlers } from './context';
import { convoyHandlers } from './convoys';
import { costHandlers } from './costs';
import { doctorHandlers } from './doctor';
import { escalationHandlers } from './escalations';
import { interopHandlers } from './interop';
import { mailHandlers } from './mail';
import { mergeQueueHandlers } from './merge-queue';
import { rigHandlers } from './rigs';
import { permissionHandlers } from './permissions';
import { runtimeEventHandlers } from './runtime-events';
import { townHandlers } from './town';

export type { EngineContext } from './context';

export const handlers: Handlers = {
  ...townHandlers,
  ...doctorHandlers,
  ...configHandlers,
  ...rigHandlers,
  ...beadHandlers,
  ...interopHandlers,
  ...convoyHandlers,
  ...agentHandlers,
  ...runtimeEventHandlers,
  ...permissionHandlers,
  ...costHandlers,
  ...mergeQueueHandlers,
  ...mailHandlers,
  ...escalationHandlers,
};
