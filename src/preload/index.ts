// The renderer's only door to the engine: typed calls over IPC, never raw ipcRenderer.
import { contextBridge, ipcRenderer } from 'electron';

contextBridge.exposeInMainWorld('overseer', {
  status: () => ipcRenderer.invoke('town.status'),
});
