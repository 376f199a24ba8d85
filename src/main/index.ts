// The Electron shell: thin by design. It hosts the engine for one town, opens one
// sandboxed window and bridges it to the engine over checked IPC. Closing the window
// with agents at work asks first: keep them running in the tray, or stop them and quit.
import { app, BrowserWindow, dialog, Menu, nativeImage, session, shell, Tray } from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import { createDemoTown } from './demo/demo-town';
import { Engine } from './engine/engine';
import { isTown } from './engine/town-dir';
import { registerIpc } from './shell/ipc';
import { notifyAttention } from './shell/notifications';
import { chooseTown, rememberTown } from './shell/last-town';

const resource = (name: string) => path.join(__dirname, '..', '..', 'resources', name);

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

// better-sqlite3 built for Electron's ABI sits beside the Node build (scripts/electron-native.mjs).
const electronBinding = path.join(__dirname, '..', 'native', `electron-${process.versions.modules}`, 'better_sqlite3.node');
if (!process.env.OVERSEER_SQLITE_BINDING && fs.existsSync(electronBinding)) process.env.OVERSEER_SQLITE_BINDING = electronBinding;

let engine: Engine | null = null;
let window: BrowserWindow | null = null;
let tray: Tray | null = null;
let quitting = false;

async function openTown(): Promise<Engine> {
  const dir = chooseTown(app.getPath('userData'));
  if (!isTown(dir)) await createDemoTown(dir);
  const e = Engine.open({ townDir: dir, log: (line) => console.log(`[town] ${line}`) });
  await e.start();
  rememberTown(app.getPath('userData'), dir);
  return e;
}

const rendererUrl = () => process.env.ELECTRON_RENDERER_URL;
const rendererFile = () => path.join(__dirname, '../renderer/index.html');

function isOurFrame(url: string | undefined): boolean {
  if (!url) return false;
  const dev = rendererUrl();
  if (dev) return url.startsWith(dev);
  try {
    const u = new URL(url);
    return u.protocol === 'file:' && path.resolve(decodeURIComponent(u.pathname)) === path.resolve(rendererFile());
  } catch {
    return false;
  }
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1360,
    height: 860,
    minWidth: 900,
    minHeight: 560,
    title: 'Overseer',
    icon: resource('icon.png'),
    show: false,
    webPreferences: {
      preload: path.join(__dirname, '../preload/index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  // Links open in the user's browser; the window itself never navigates away.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, url) => {
    if (!isOurFrame(url)) event.preventDefault();
  });
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  win.on('close', (event) => {
    if (quitting) return;
    event.preventDefault();
    void askBeforeClosing(win);
  });
  if (rendererUrl()) void win.loadURL(rendererUrl()!);
  else void win.loadFile(rendererFile());
  return win;
}

function runningAgents(): number {
  return engine ? engine.host.list().filter((s) => !s.agentId.endsWith('/refinery')).length : 0;
}

/** Never kill running agents silently: keep them in the background, or stop them. */
async function askBeforeClosing(win: BrowserWindow) {
  const n = runningAgents();
  if (n === 0) return quit();
  const { response } = await dialog.showMessageBox(win, {
    type: 'question',
    buttons: ['Keep running in the background', 'Stop agents and quit', 'Cancel'],
    defaultId: 0,
    cancelId: 2,
    message: `${n} agent${n === 1 ? ' is' : 's are'} still working`,
    detail: 'In the background they keep working and merging; reopen Overseer from the tray (or the dock). Stopping them gives their beads back for later.',
  });
  if (response === 0) {
    win.hide();
    showTray();
  } else if (response === 1) {
    await quit();
  }
}

function showTray() {
  if (process.platform === 'darwin') return; // the app stays in the dock
  if (tray) return;
  tray = new Tray(nativeImage.createFromPath(resource('tray.png')));
  tray.setToolTip('Overseer: agents at work');
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Show Overseer', click: () => window?.show() },
      { type: 'separator' },
      { label: 'Stop agents and quit', click: () => void quit() },
    ]),
  );
  tray.on('click', () => window?.show());
}

async function quit() {
  quitting = true;
  await engine?.shutdown();
  app.quit();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    window?.show();
    window?.focus();
  });
  app.whenReady().then(async () => {
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
    });
    session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    try {
      engine = await openTown();
    } catch (err) {
      dialog.showErrorBox('Overseer could not open the town', (err as Error).message);
      app.exit(1);
      return;
    }
    window = createWindow();
    registerIpc(engine, (sender, url) => sender === window?.webContents && isOurFrame(url));
    notifyAttention(engine, () => window);
  });
  app.on('activate', () => window?.show());
  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    if (window) void askBeforeClosing(window);
    else void quit();
  });
}
