/**
 * `STORAGE_URL=postgres://user:password@host:port/database` (or `postgresql://`, with an optional
 * `?sslmode=`): recognised, checked and shown without its password. Nothing here ever returns or
 * reports the password itself, except `passwordOf` (for the logger's redaction list).
 */

/** The sslmode values node-postgres understands (docs/operations.md says what each does). */
export const PG_SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'] as const;

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** What is wrong with a postgres URL, in words that never repeat any part of it; undefined when usable. */
export function postgresUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'STORAGE_URL is not a valid postgres:// URL (special characters in the user or password must be percent-encoded)';
  }
  if (!parsed.hostname && !parsed.searchParams.get('host')) return 'STORAGE_URL must name the PostgreSQL host (postgres://user:password@host:port/database)';
  if (parsed.port && !(Number(parsed.port) > 0 && Number(parsed.port) < 65536)) return 'STORAGE_URL has an invalid port';
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode !== null && !(PG_SSL_MODES as readonly string[]).includes(sslmode)) {
    return `STORAGE_URL's sslmode must be one of ${PG_SSL_MODES.join(', ')}`;
  }
  try {
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
  } catch {
    return 'STORAGE_URL has an invalid percent-encoding in its user or password';
  }
  return undefined;
}

/** The URL as it may be shown: `postgres://user@host:port/database?sslmode=…`, never the password. */
export function redactPostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username ? `${parsed.username}@` : '';
    const sslmode = parsed.searchParams.get('sslmode');
    return `${parsed.protocol}//${user}${parsed.host}${parsed.pathname}${sslmode ? `?sslmode=${encodeURIComponent(sslmode)}` : ''}`;
  } catch {
    return 'postgres://(invalid URL)';
  }
}

/** The password as the server receives it (decoded), and as written in the URL; for redaction only. */
export function passwordOf(url: string): string[] {
  try {
    const raw = new URL(url).password;
    if (!raw) return [];
    const decoded = decodeURIComponent(raw);
    return decoded === raw ? [raw] : [decoded, raw];
  } catch {
    return [];
  }
}

/** Removes every occurrence of the URL's password from a message (driver errors are passed through this). */
export function scrubPassword(message: string, url: string): string {
  let out = message;
  for (const secret of passwordOf(url)) {
    // A very short password would scrub ordinary letters; the driver never puts it in a message anyway.
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}
