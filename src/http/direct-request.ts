/**
 * One HTTP exchange on node:http(s), for the platform calls a webhook makes every time (a JSON reply,
 * a status change). axios costs about 75 µs of CPU per call in config merging, header objects and
 * adapter dispatch (measured on loopback: 121 µs per call against 47 µs here), which was the largest
 * single item of a webhook's CPU. Multipart uploads and file downloads (redirects, binary answers)
 * still go through axios.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

export interface DirectRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  maxContentLength: number;
  agent: http.Agent;
}

export interface DirectResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the body is JSON, else the text ('' for none), as axios gives it. */
  data: unknown;
}

/** A failed exchange: `code` is the system error code, `timeout` or `too_large`. */
export class DirectRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DirectRequestError';
  }
}

export function directRequest(req: DirectRequest): Promise<DirectResponse> {
  return new Promise((resolve, reject) => {
    const transport = req.url.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
    let settled = false;
    const fail = (error: DirectRequestError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outgoing.destroy();
      reject(error);
    };
    const outgoing = transport.request(req.url, { method: req.method, headers, agent: req.agent }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > req.maxContentLength) fail(new DirectRequestError('too_large', `the answer is larger than ${req.maxContentLength} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', (error: NodeJS.ErrnoException) => fail(new DirectRequestError(error.code ?? 'ECONNRESET', error.message)));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, data: readBody(Buffer.concat(chunks, size).toString('utf8')) });
      });
    });
    // A deadline for the whole exchange, not only for an idle socket.
    const timer = setTimeout(() => fail(new DirectRequestError('timeout', `no answer within ${req.timeoutMs} ms`)), req.timeoutMs);
    outgoing.on('error', (error: NodeJS.ErrnoException) => fail(new DirectRequestError(error.code ?? 'ECONNRESET', error.message)));
    outgoing.end(req.body);
  });
}

/** JSON when it parses (platforms are lax about the content type), else the text, as axios reads answers. */
function readBody(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
