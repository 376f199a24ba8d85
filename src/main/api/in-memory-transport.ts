// An in-process transport for tests: the same dispatcher, with a JSON round trip so
// nothing passes that could not cross a real boundary.
import type { Caller, Transport } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import type { ApiDispatcher } from './dispatcher';

export function inMemoryTransport(dispatcher: ApiDispatcher, caller: Caller): Transport {
  return {
    async call(method, params) {
      const wire = params === undefined ? undefined : JSON.parse(JSON.stringify(params));
      try {
        const result = await dispatcher.dispatch(caller, method, wire);
        return result === undefined ? undefined : JSON.parse(JSON.stringify(result));
      } catch (err) {
        if (err instanceof ApiError) throw ApiError.from(err.toJSON());
        throw err;
      }
    },
  };
}
