// The control room's renderer: connects to the engine (Electron bridge or the web
// host's WebSocket), keeps the town store in sync and renders the app.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { OverseerBridge } from '../../shared/backend';
import { WebBackend } from '../../shared/web-backend';
import { App } from './App';
import { IpcBackend } from './backend/ipc-backend';
import { syncTown } from './state/town-store';
import { openTerminal } from './state/ui-store';
import './styles.css';

declare global {
  interface Window {
    overseer?: OverseerBridge;
  }
}

function connect() {
  if (window.overseer) return new IpcBackend(window.overseer);
  // `town serve`: the page was opened with the token, which now lives in a cookie that
  // the WebSocket upgrade carries.
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return new WebBackend({ baseUrl: `${scheme}://${location.host}`, socket: (url) => new WebSocket(url) as never, diagnose });
}

/** Why the WebSocket cannot reach the engine, as far as a plain request can tell. */
async function diagnose(): Promise<string | null> {
  try {
    const r = await fetch('/', { method: 'HEAD', cache: 'no-store' });
    // Served again, but with another web token: only the URL `town serve` printed gets in.
    if (r.status === 401) return 'the town engine no longer accepts this tab: open the URL `town serve` printed';
    return null;
  } catch {
    return `nothing answers at ${location.host} (is \`town serve\` running?)`;
  }
}

void syncTown(connect());
// A click on one of the desktop app's notifications opens that agent's terminal here.
window.overseer?.onOpenAgent?.((agent) => openTerminal(agent));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
