// Makes sure the native modules load in this Node. A laptop that rebuilt them for
// Electron leaves binaries Node cannot load; rebuild them for Node, with no manual step.
import { execFileSync, spawnSync } from 'node:child_process';

const modules = {
  'better-sqlite3': "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()",
  'node-pty': "require('node-pty')",
};

for (const [name, probe] of Object.entries(modules)) {
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  if (r.status === 0) continue;
  const why = (r.stderr.match(/NODE_MODULE_VERSION[^\n]*|was compiled against[^\n]*|Error: [^\n]*/) ?? ['does not load'])[0];
  console.log(`[ensure-native] ${name} ${why.trim()}; rebuilding it for Node ${process.version}…`);
  execFileSync('npm', ['rebuild', name, '--build-from-source'], { stdio: 'inherit' });
  const again = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  if (again.status !== 0) {
    console.error(`[ensure-native] ${name} still does not load:\n${again.stderr}`);
    process.exit(1);
  }
}
