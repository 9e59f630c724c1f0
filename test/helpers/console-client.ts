/** HTTP on loopback to an app's /console: every answer kept (no throwing on 4xx), cookies and the CSRF token at hand. */
import axios, { type AxiosResponse } from 'axios';

export interface ConsoleClient {
  get(path: string, headers?: Record<string, string>): Promise<AxiosResponse>;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<AxiosResponse>;
  /** The CSRF token of the page (after a login when one is needed). */
  csrf(): Promise<string>;
  /** POST with the page's CSRF token. */
  act(path: string, body?: unknown): Promise<AxiosResponse>;
  login(token: string): Promise<AxiosResponse>;
  cookie?: string;
}

export function consoleClient(baseUrl: string): ConsoleClient {
  const http = axios.create({ baseURL: baseUrl, timeout: 5000, validateStatus: () => true, maxRedirects: 0 });
  const client: ConsoleClient = {
    get: (path, headers = {}) => http.get(path, { headers: { ...(client.cookie ? { Cookie: client.cookie } : {}), ...headers } }),
    post: (path, body, headers = {}) =>
      http.post(path, body === undefined ? undefined : JSON.stringify(body), {
        headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...(client.cookie ? { Cookie: client.cookie } : {}), ...headers },
        transformRequest: [(data: unknown) => data],
      }),
    async csrf() {
      const page = await client.get('/console');
      const match = /name="console-csrf" content="([^"]+)"/.exec(String(page.data));
      if (!match) throw new Error(`no CSRF token in the page (status ${page.status})`);
      return match[1]!;
    },
    async act(path, body) {
      return client.post(path, body ?? {}, { 'X-Console-CSRF': await client.csrf() });
    },
    async login(token) {
      const res = await client.post('/console/login', { token });
      const setCookie = res.headers['set-cookie']?.[0];
      if (setCookie) client.cookie = setCookie.split(';')[0];
      return res;
    },
  };
  return client;
}

/** Polls until `check` returns a value (not undefined/false), or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, ms = 8000, what = 'the condition'): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
