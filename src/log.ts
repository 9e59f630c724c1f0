/**
 * Structured JSON-line logging with secret redaction.
 *
 * Two layers of redaction: any field whose key looks like a credential is replaced, and any string
 * anywhere that contains a registered secret value (tokens and keys from the configuration) has that
 * value replaced, so a token that leaks into an error message or URL still never reaches a log line.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

const SECRET_KEY = /token|secret|password|authorization|signature|api[-_]?key|cookie/i;
const REDACTED = '[redacted]';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** Scrubs these values too from now on, in this logger and its children (a tenant added while running). */
  redact?(secrets: readonly string[]): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Secret values to scrub from every string logged (empty values are ignored). */
  secrets?: Array<string | undefined>;
  /** Where lines go; stdout by default. */
  write?: (line: string) => void;
  fields?: Record<string, unknown>;
}

/** Replaces every occurrence of the given secrets in a string. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

function redact(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value, secrets);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '[deep]';
  if (value instanceof Error) {
    const err = value as Error & { code?: unknown; status?: unknown };
    return redact(
      { name: err.name, message: err.message, code: err.code, status: err.status, stack: err.stack },
      secrets,
      depth + 1,
    );
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null && typeof v !== 'boolean' ? REDACTED : redact(v, secrets, depth + 1);
  }
  return out;
}

/** Creates a logger writing one JSON object per line. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const secrets = (options as { sharedSecrets?: string[] }).sharedSecrets ?? keptSecrets(options.secrets ?? []);
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const base = options.fields ?? {};

  const emit = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < threshold) return;
    const record = redact({ time: new Date().toISOString(), level, msg, ...base, ...fields }, secrets);
    write(JSON.stringify(record));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...options, sharedSecrets: secrets, fields: { ...base, ...fields } } as LoggerOptions),
    redact: (more) => {
      for (const secret of keptSecrets(more)) if (!secrets.includes(secret)) secrets.push(secret);
    },
  };
}

/** Short values would redact ordinary words; real credentials are longer than this. */
function keptSecrets(values: ReadonlyArray<string | undefined>): string[] {
  return values.filter((s): s is string => typeof s === 'string' && s.length >= 6);
}

/** A logger that drops everything (tests, library defaults). */
export const silentLogger: Logger = createLogger({ level: 'silent' });
