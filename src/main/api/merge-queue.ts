// Merge queue commands.
import { mergeRequestView, type MergeRequestRow } from '../store/views';
import type { Handlers } from './context';

export const mergeQueueHandlers: Handlers<'mr.list'> = {
  'mr.list': (ctx, _c, input) =>
    (input.rig
      ? ctx.store.all<MergeRequestRow>('SELECT * FROM merge_requests WHERE rig_id = ? ORDER BY created_at', input.rig)
      : ctx.store.all<MergeRequestRow>('SELECT * FROM merge_requests ORDER BY created_at')
    ).map(mergeRequestView),

};
