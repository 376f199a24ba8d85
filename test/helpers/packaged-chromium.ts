// The Chromium shipped inside the @sparticuz/chromium registry package (a Linux x64
// chrome-headless-shell, brotli-compressed): the UI tests' browser on a machine with
// neither Debian's Chromium nor $CHROMIUM_PATH, so `npm install && npm test` needs no
// apt-get. Only its bin/ files are used, not its JS (its Lambda set-up does not apply).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

const PACKAGE = '@sparticuz/chromium';

export interface PackagedChromium {
  version: string;
  executablePath: string;
  /** For the browser process only: its NSS/NSPR/expat libraries and its fonts. */
  env: Record<string, string>;
}

function packageDir(): string | null {
  try {
    // The package exports only its entry point: walk up from it to the package root.
    let dir = path.dirname(createRequire(__filename).resolve(PACKAGE));
    while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
    return dir;
  } catch {
    return null;
  }
}

/** Why the packaged browser cannot serve here, or null when it can. */
export function packagedChromiumUnavailable(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `${PACKAGE} ships a Linux x64 build only`;
  if (!packageDir()) return `${PACKAGE} is not installed (npm install)`;
  return null;
}

function untarBrotli(file: string, into: string) {
  fs.mkdirSync(into, { recursive: true });
  // tar is essential on every Debian; no tar library needed.
  execFileSync('tar', ['-x', '-C', into], { input: zlib.brotliDecompressSync(fs.readFileSync(file)), maxBuffer: 1 << 30 });
}

/**
 * Unpacks the browser once per version into the temp dir (each test worker may ask at
 * once: the first to finish renames its copy into place, the others drop theirs).
 */
export function packagedChromium(): PackagedChromium {
  const pkg = packageDir();
  if (!pkg) throw new Error(`${PACKAGE} is not installed`);
  const version: string = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version;
  const dir = path.join(os.tmpdir(), `overseer-chromium-${version}`);
  if (!fs.existsSync(dir)) {
    const tmp = `${dir}.partial-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const bin = path.join(pkg, 'bin');
    fs.writeFileSync(path.join(tmp, 'chromium'), zlib.brotliDecompressSync(fs.readFileSync(path.join(bin, 'chromium.br'))), { mode: 0o755 });
    // Amazon Linux builds of libnss3, libnspr4 and libexpat: a minimal Debian has none of them.
    untarBrotli(path.join(bin, 'al2023.tar.br'), tmp);
    untarBrotli(path.join(bin, 'fonts.tar.br'), tmp);
    // Its fonts.conf names Lambda's paths: ours names the unpacked fonts and the system's.
    fs.writeFileSync(
      path.join(tmp, 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${path.join(dir, 'fonts')}</dir>\n  <dir>/usr/share/fonts</dir>\n  <cachedir>${path.join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
    );
    try {
      fs.renameSync(tmp, dir);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another worker got there first
    }
  }
  return {
    version,
    executablePath: path.join(dir, 'chromium'),
    env: { LD_LIBRARY_PATH: path.join(dir, 'lib'), FONTCONFIG_PATH: dir },
  };
}
