// Beads in and out of the town in bd's JSONL (Gas Town interop): `town import`, `town export`.
import { importBdFile } from '../interop/bd-import';
import { exportPage } from '../interop/bd-export';
import { notFound } from '../../shared/errors';
import { getRig } from '../store/views';
import type { Handlers } from './context';

export const interopHandlers: Handlers<'bead.import' | 'bead.export'> = {
  'bead.import': (ctx, _c, input) => importBdFile(ctx.store, { file: input.path, rig: input.rig, strict: input.strict }),
  'bead.export': (ctx, _c, input) => {
    if (input.rig && !getRig(ctx.store, input.rig)) throw notFound('rig', input.rig, 'rig');
    return exportPage(ctx.store, input);
  },
};
