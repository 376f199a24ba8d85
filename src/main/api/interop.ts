// Beads in and out of the town in bd's JSONL (Gas Town interop): `town import`, `town export`.
import { assertJsonlName, importBdFile, importRig, ImportSession } from '../interop/bd-import';
import { exportPage } from '../interop/bd-export';
import { notFound } from '../../shared/errors';
import { getRig } from '../store/views';
import type { Handlers } from './context';

export const interopHandlers: Handlers<'bead.import' | 'bead.export' | 'bead.import_begin' | 'bead.import_lines' | 'bead.import_finish'> = {
  'bead.import': (ctx, _c, input) => importBdFile(ctx.store, { file: input.path, rig: input.rig, strict: input.strict }),
  'bead.import_begin': (ctx, _c, input) => {
    assertJsonlName(input.name);
    const rig = importRig(ctx.store, input.rig);
    return { import: ImportSession.begin(ctx.store, rig, input.name).id, rig };
  },
  'bead.import_lines': (ctx, _c, input) => {
    const session = ImportSession.current(ctx.store, input.import);
    session.addLines(input.lines);
    return { lines: session.summary.lines };
  },
  'bead.import_finish': (ctx, _c, input) => ImportSession.current(ctx.store, input.import).finish(),
  'bead.export': (ctx, _c, input) => {
    if (input.rig && !getRig(ctx.store, input.rig)) throw notFound('rig', input.rig, 'rig');
    return exportPage(ctx.store, input);
  },
};
