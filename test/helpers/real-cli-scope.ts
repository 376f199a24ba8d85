// What a test of a real agent CLI starts and must stop after each test, whatever its outcome:
// the towns it serves and the fake model server the CLI talks to.
import { afterEach } from 'vitest';
import type { FakeModelServer } from './fake-model/server';
import { removeTempDirs, type ServedTown } from './town';

export interface RealCliScope {
  served: ServedTown[];
  fake: FakeModelServer | undefined;
}

/** Registers the cleanup for the calling test file; `keepTempDirs` when the file removes them itself. */
export function realCliScope(opts: { keepTempDirs?: boolean } = {}): RealCliScope {
  const scope: RealCliScope = { served: [], fake: undefined };
  afterEach(async () => {
    for (const s of scope.served.splice(0)) await s.stop();
    const server = scope.fake;
    scope.fake = undefined;
    await server?.close();
    if (!opts.keepTempDirs) removeTempDirs();
  });
  return scope;
}
