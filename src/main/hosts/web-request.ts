// Total parsers for what a web client sends: every malformed input comes back as null
// or nothing, never as a throw (one bad request must not take the engine down).

/**
 * The request target as a URL, or null when it is not a path (absolute-form, `*`) or
 * does not parse. The path is appended to a fixed origin, so `//host` stays a path.
 */
export function requestTarget(raw: string | undefined): URL | null {
  if (!raw || !raw.startsWith('/')) return null;
  try {
    return new URL(`http://local${raw}`);
  } catch {
    return null;
  }
}

/** A local redirect target: a single leading slash, so `//evil.example` stays on this host. */
export function localPath(pathname: string): string {
  return '/' + pathname.replace(/^[/\\]+/, '');
}

/**
 * The web token's cookie. Cookies ignore ports, so each town's host (one per port on
 * 127.0.0.1) names its own, and a second town neither replaces nor receives it.
 */
export function tokenCookieName(port: number): string {
  return `overseer_token_${port}`;
}

/** Every value of cookie `name` in a Cookie header, decoded; values that do not decode are left out. */
export function cookieValues(header: string | undefined, name: string): { values: string[]; malformed: number } {
  const values: string[] = [];
  let malformed = 0;
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let v = part.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
    try {
      values.push(decodeURIComponent(v));
    } catch {
      malformed++;
    }
  }
  return { values, malformed };
}

/** Client text for a log line: quoted (control characters escaped) and cut short. */
export function quoted(text: string, max = 120): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
