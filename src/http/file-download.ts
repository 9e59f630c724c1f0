/** Fetches a file by URL (a customer's upload, a bot's attachment) through the shared HTTP client: timeouts, retries, a size limit. */
import { InvalidRequestError } from '../errors';
import { PlatformHttpClient, TOO_LARGE, type PlatformHttpClientOptions } from './platform-http-client';

export interface DownloadedFile {
  data: Buffer;
  contentType?: string;
}

export type FileDownloader = (url: string, options?: { maxBytes?: number }) => Promise<DownloadedFile>;

/** A downloader for absolute http(s) URLs; failures are `InvalidRequestError`s naming the host. */
export function createFileDownloader(options: Omit<PlatformHttpClientOptions, 'platform' | 'baseUrl'> & { code: 'nimchat_attachment_download_failed' | 'inbenta_attachment_download_failed'; maxBytes: number }): FileDownloader {
  const http = new PlatformHttpClient({ timeoutMs: 15_000, retry: { maxAttempts: 2 }, maxRedirects: 5, ...options, platform: 'download', baseUrl: '' });
  return async (url, { maxBytes = options.maxBytes } = {}) => {
    if (!/^https?:\/\//i.test(url)) throw new InvalidRequestError(options.code, 'only http(s) URLs can be downloaded');
    try {
      const res = await http.request<ArrayBuffer>({ method: 'GET', path: url, responseType: 'arraybuffer', maxContentLength: maxBytes });
      const type = res.headers['content-type'];
      return { data: Buffer.from(res.data), contentType: type ? type.split(';')[0] : undefined };
    } catch (error) {
      const host = new URL(url).host;
      const reason = error instanceof Error ? error.message.split(url).join(host) : String(error);
      if (reason.includes(TOO_LARGE)) throw new InvalidRequestError(`${options.code}_too_large`, `the file at ${host} is larger than ${maxBytes} bytes`);
      throw new InvalidRequestError(options.code, `could not download the file from ${host}: ${reason}`);
    }
  };
}
