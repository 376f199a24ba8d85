// The control room's renderer: connects to the engine (Electron bridge or the web
// host's WebSocket), keeps the town store in sync and renders the app.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { OverseerBridge } from '../../shared/backend';
import { WebBackend } from '../../shared/web-backend';
import { App } from './App';
import { IpcBackend } from './backend/ipc-backend';
import { syncTown } from './state/town-store';
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
  return new WebBackend({ baseUrl: `${scheme}://${location.host}`, socket: (url) => new WebSocket(url) as never });
}

void syncTown(connect());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
