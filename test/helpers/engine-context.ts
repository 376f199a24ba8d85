// The engine's context for API tests that run the real reconciler and store but no
// session host: nothing to stop, type into, freeze or thaw.
import type { EngineContext } from '../../src/main/api/context';

export const NO_SESSIONS: Pick<EngineContext, 'stopAgentSession' | 'writeToAgent' | 'freezeTown' | 'thawTown' | 'wake'> = {
  stopAgentSession: async () => false,
  writeToAgent: () => 0,
  freezeTown: () => {
    throw new Error('no sessions here');
  },
  thawTown: () => {
    throw new Error('no sessions here');
  },
  wake: () => {},
};
