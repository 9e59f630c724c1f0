import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log';
import { PlatformApiError } from '../../src/errors';

describe('logger', () => {
  it('redacts credential-looking keys and registered secret values anywhere', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', secrets: ['super-secret-token'], write: (l) => lines.push(l) });
    log.info('calling https://x/?accessToken=super-secret-token', {
      headers: { api_access_token: 'abc', Authorization: 'Bearer zzz' },
      nested: { note: 'the token super-secret-token leaked' },
      error: new PlatformApiError('nimchat', 401, 'GET', '/p', 'bad super-secret-token'),
    });
    const text = lines.join('\n');
    expect(text).not.toContain('super-secret-token');
    expect(text).not.toContain('Bearer zzz');
    expect(text).not.toContain('"abc"');
    const record = JSON.parse(lines[0]!);
    expect(record.level).toBe('info');
    expect(record.headers.api_access_token).toBe('[redacted]');
    expect(record.error.code).toBe('nimchat_api_error');
  });

  it('honours the level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    log.info('no');
    log.warn('yes');
    expect(lines).toHaveLength(1);
  });
});
