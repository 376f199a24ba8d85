// Channel names shared by the Electron main process and the preload bridge.
export const IPC = {
  call: 'overseer:call',
  watchFeed: 'overseer:feed.watch',
  feed: 'overseer:feed',
  openTerminal: 'overseer:terminal.open',
  terminalPort: 'overseer:terminal.port',
  /** Main → window: open this agent's terminal (a notification was clicked). */
  openAgent: 'overseer:agent.open',
} as const;
