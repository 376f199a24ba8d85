// Channel names shared by the Electron main process and the preload bridge.
export const IPC = {
  call: 'overseer:call',
  watchFeed: 'overseer:feed.watch',
  feed: 'overseer:feed',
  openTerminal: 'overseer:terminal.open',
  terminalPort: 'overseer:terminal.port',
} as const;
