// The control room's renderer. For now it shows the town's status; the views (overview,
// board, convoy planner, agents, terminals) come with the UI milestone.
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { TownStatus } from '../../shared/domain';

declare global {
  interface Window {
    overseer?: { status(): Promise<TownStatus> };
  }
}

function App() {
  const [status, setStatus] = useState<TownStatus | null>(null);
  useEffect(() => {
    const load = () => window.overseer?.status().then(setStatus);
    void load();
    const t = setInterval(load, 2000);
    return () => clearInterval(t);
  }, []);
  return (
    <main style={{ fontFamily: 'system-ui', padding: 24 }}>
      <h1>Overseer</h1>
      {status ? (
        <p>
          {status.town}: {Object.entries(status.counts).map(([k, v]) => `${k} ${v}`).join(', ') || 'no beads yet'} ·{' '}
          {status.agents.working} agents working
        </p>
      ) : (
        <p>Connecting to the town…</p>
      )}
    </main>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
