/**
 * The sandbox Inbenta's agent routes (`/sandbox/tickets/...`) take a ticket by its numeric uuid or by
 * the reference the customer is told (`SANDBOX-00000001`); anything else is a clear 400 or 404.
 */
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InbentaSandbox } from '../../../src/sandbox/inbenta/inbenta-sandbox';

describe('sandbox Inbenta: ticket ids on the agent routes', () => {
  const sandbox = new InbentaSandbox({ batchWindowMs: 10 });
  let uuid = 0;
  let reference = '';
  const http = axios.create({ validateStatus: () => true });

  beforeAll(async () => {
    await sandbox.start();
    const key = { 'x-inbenta-key': sandbox.apiKey };
    const auth = await http.post(`${sandbox.authUrl}/v1/auth`, { secret: sandbox.apiSecret }, { headers: key });
    const headers = { ...key, Authorization: `Bearer ${auth.data.accessToken as string}` };
    const user = await http.post(`${sandbox.ticketingUrl}/v1/users`, { name: 'Ada', address: 'ada@example.com' }, { headers });
    const ticket = await http.post(`${sandbox.ticketingUrl}/v1/tickets`, { title: 'Invoice', message: 'Where is my invoice?', creator: user.data.uuid }, { headers });
    expect(ticket.status).toBe(200);
    uuid = ticket.data.uuid as number;
    reference = ticket.data.full_uuid as string;
    expect(reference).toBe('SANDBOX-00000001');
    expect(String(uuid)).not.toBe(reference);
  });
  afterAll(() => sandbox.close());

  const url = (id: string, action = '') => `${sandbox.authUrl}/sandbox/tickets/${encodeURIComponent(id)}${action}`;

  it('answers a ticket named by its reference, as the customer sees it, and by its uuid', async () => {
    const byReference = await http.post(url(reference, '/answer'), { text: 'Hi, a new invoice is on its way.' });
    expect(byReference.status).toBe(200);
    expect(byReference.data).toMatchObject({ type: 'answer', message: 'Hi, a new invoice is on its way.' });
    const byUuid = await http.post(url(String(uuid), '/answer'), { text: 'It left today.' });
    expect(byUuid.status).toBe(200);
    const lower = await http.post(url(reference.toLowerCase(), '/answer'), { text: 'Any case will do.' });
    expect(lower.status).toBe(200);
    expect(sandbox.tickets[0]!.replies.map((r) => r.message)).toEqual(['Hi, a new invoice is on its way.', 'It left today.', 'Any case will do.']);
  });

  it('shows one ticket by either id', async () => {
    for (const id of [reference, String(uuid)]) {
      const res = await http.get(url(id));
      expect(res.status).toBe(200);
      expect(res.data).toMatchObject({ uuid, full_uuid: reference, title: 'Invoice' });
      expect(Array.isArray(res.data.replies)).toBe(true);
    }
  });

  it('answers 404 naming the id as given when no ticket has it', async () => {
    for (const [id, action] of [
      ['SANDBOX-00000099', '/answer'],
      ['OTHER-00000001', '/close'],
      ['999', '/close'],
      ['SANDBOX-00000042', ''],
    ] as const) {
      const res = action === '' ? await http.get(url(id)) : await http.post(url(id, action), { text: 'x' });
      expect(res.status, `${id}${action}`).toBe(404);
      expect(res.data).toEqual({ error: `no ticket ${id}` });
    }
  });

  it('answers 400 for an id that is neither a uuid nor a reference, never "NaN"', async () => {
    for (const id of ['abc', 'SANDBOX-', '-1', '1.5', 'SANDBOX 1']) {
      const res = await http.post(url(id, '/answer'), { text: 'x' });
      expect(res.status, id).toBe(400);
      expect(res.data.error).toContain(`malformed ticket id ${JSON.stringify(id)}`);
      expect(JSON.stringify(res.data)).not.toContain('NaN');
    }
    const brokenEscape = await http.post(`${sandbox.authUrl}/sandbox/tickets/%zz/close`);
    expect(brokenEscape.status).toBe(400);
    expect(brokenEscape.data.error).toContain('malformed');
  });

  it('refuses an answer without text', async () => {
    const res = await http.post(url(reference, '/answer'), {});
    expect(res.status).toBe(400);
    expect(res.data.error).toMatch(/text is required/);
  });

  it('closes a ticket named by its reference', async () => {
    const res = await http.post(url(reference, '/close'));
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ uuid, status: { name: 'Closed' } });
  });

  it('the emulated ticketing API keeps to numeric uuids, with clear errors', async () => {
    const key = { 'x-inbenta-key': sandbox.apiKey };
    const auth = await http.post(`${sandbox.authUrl}/v1/auth`, { secret: sandbox.apiSecret }, { headers: key });
    const headers = { ...key, Authorization: `Bearer ${auth.data.accessToken as string}` };
    expect((await http.get(`${sandbox.ticketingUrl}/v1/tickets/${uuid}`, { headers })).status).toBe(200);
    const malformed = await http.get(`${sandbox.ticketingUrl}/v1/tickets/${reference}`, { headers });
    expect(malformed.status).toBe(400);
    expect(malformed.data.error.message).toContain(JSON.stringify(reference));
    const missing = await http.get(`${sandbox.ticketingUrl}/v1/tickets/999/replies`, { headers });
    expect(missing.status).toBe(404);
    expect(missing.data).toEqual({ error: { code: 404, message: 'no ticket 999' } });
  });
});
