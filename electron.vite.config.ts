// Builds the Electron shell (main), the preload bridge and the React renderer.
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';

export default defineConfig({
  main: {
    // Packages load from node_modules at run time (native modules must).
    build: { externalizeDeps: true, rollupOptions: { input: { index: resolve(__dirname, 'src/main/index.ts') } } },
  },
  // The sandboxed preload cannot require packages: everything it uses is bundled in.
  preload: {
    build: { externalizeDeps: false, rollupOptions: { input: { index: resolve(__dirname, 'src/preload/index.ts') } } },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [react()],
    build: { chunkSizeWarningLimit: 2500, rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } } },
  },
});
