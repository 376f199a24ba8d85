// The file system isomorphic-git writes merge candidates through. It writes a loose object
// in place (create, then fill) and never rewrites one that exists, so an engine killed
// between the two left an empty object file for good: every later merge of the same tree
// "succeeded" onto it and git then refused to check the candidate out. Here a file appears
// whole or not at all (written aside, then renamed), and an empty loose object, which can
// only be such a leftover, counts as absent so the next write replaces it.
import fs from 'node:fs';
import path from 'node:path';

const LOOSE_OBJECT = /[\\/]objects[\\/][0-9a-f]{2}[\\/][0-9a-f]{38}$/;
let written = 0;

function notFound(file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: an empty loose object is a killed write's leftover, '${file}'`), { code: 'ENOENT', path: file });
}

async function writeWhole(file: string, data: Parameters<typeof fs.promises.writeFile>[1], options?: Parameters<typeof fs.promises.writeFile>[2]) {
  // `tmp_` names in an objects directory are what git's own prune clears if we are killed here.
  const aside = path.join(path.dirname(file), `tmp_obj_overseer_${process.pid}_${written++}`);
  try {
    await fs.promises.writeFile(aside, data, options);
    await fs.promises.rename(aside, file);
  } catch (err) {
    await fs.promises.rm(aside, { force: true }).catch(() => {});
    throw err;
  }
}

async function statOf(file: string, lstat: boolean) {
  const st = lstat ? await fs.promises.lstat(file) : await fs.promises.stat(file);
  if (st.isFile() && st.size === 0 && LOOSE_OBJECT.test(String(file))) throw notFound(String(file));
  return st;
}

/** Pass as isomorphic-git's `fs` where it writes objects. */
export const crashSafeFs = {
  promises: {
    readFile: fs.promises.readFile,
    writeFile: writeWhole,
    mkdir: fs.promises.mkdir,
    rmdir: fs.promises.rmdir,
    rm: fs.promises.rm,
    unlink: fs.promises.unlink,
    stat: (file: string) => statOf(file, false),
    lstat: (file: string) => statOf(file, true),
    readdir: fs.promises.readdir,
    readlink: fs.promises.readlink,
    symlink: fs.promises.symlink,
  },
};
