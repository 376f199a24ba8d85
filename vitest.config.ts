import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // PTYs and SQLite handles are per process: run test files in forked workers.
    pool: 'forks',
    // Most test time waits on real processes (PTYs, git, agent CLIs, Chromium): on a 2-core
    // machine vitest's default of one worker leaves the suite at ~17 min, two take ~9.
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default'],
  },
});
