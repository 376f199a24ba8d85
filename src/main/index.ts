// The Electron shell: thin by design. It hosts the engine for one town and opens a
// sandboxed window; everything else lives in the engine (plain Node) and the renderer.
// The full desktop UI (views, typed IPC for every API call) is the next milestone.
import { app, BrowserWindow, ipcMain } from 'electron';
import os from 'node:os';
import path from 'node:path';
import { Engine } from './engine/engine';
import { createDemoTown } from './demo/demo-town';
import { isTown } from './engine/town-dir';

let engine: Engine | null = null;

async function openTown(): Promise<Engine> {
  const dir = process.env.OVERSEER_TOWN ?? path.join(os.homedir(), '.overseer', 'demo-town');
  if (!isTown(dir)) await createDemoTown(dir);
  const e = Engine.open({ townDir: dir, log: (line) => console.log(`[town] ${line}`) });
  await e.start();
  return e;
}

function createWindow() {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    title: 'Overseer',
    webPreferences: {
      preload: path.join(__dirname, '../preload/index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(path.join(__dirname, '../renderer/index.html'));
  return win;
}

app.whenReady().then(async () => {
  engine = await openTown();
  const window = createWindow();
  ipcMain.handle('town.status', async (event) => {
    // Only our own window may call the engine.
    if (event.sender !== window.webContents) throw new Error('unknown sender');
    return engine!.client().call('town.status', {});
  });
});

app.on('window-all-closed', async () => {
  await engine?.shutdown();
  app.quit();
});
