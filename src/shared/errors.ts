// Typed errors every boundary answers with. `field` names the offending input field.

export const ERROR_CODES = [
  'invalid_input',
  'bad_frame',
  'unknown_method',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'stale',
  /** Too many of something too fast (mail per sender): the message names the limit. */
  'rate_limited',
  'engine_not_running',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ApiErrorShape {
  code: ErrorCode;
  message: string;
  field?: string;
}

const MAX_ERROR_MESSAGE_CHARS = 1000;
const MAX_ERROR_FIELD_CHARS = 200;
const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;

  constructor(code: ErrorCode, message: string, field?: string) {
    // Messages and fields quote the input (an unknown key, a bad id): a hostile frame must
    // not make the answer (or the log line) as large as itself.
    super(clip(message, MAX_ERROR_MESSAGE_CHARS));
    this.name = 'ApiError';
    this.code = code;
    this.field = field === undefined ? undefined : clip(field, MAX_ERROR_FIELD_CHARS);
  }

  toJSON(): ApiErrorShape {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }

  static from(shape: ApiErrorShape): ApiError {
    return new ApiError(shape.code, shape.message, shape.field);
  }
}

export const notFound = (what: string, id: string, field?: string) =>
  new ApiError('not_found', `${what} ${id} not found`, field);

export const conflict = (message: string, field?: string) => new ApiError('conflict', message, field);

export const invalid = (message: string, field: string) => new ApiError('invalid_input', message, field);

/**
 * The error as said beside its field in a form: "budget_usd: budget must be more than $0"
 * → "Budget must be more than $0" (the field prefix is for a terminal, where no field shows).
 */
export function besideField(message: string, field: string | undefined): string {
  const text = field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}
