import { MemoryStorage } from 'botbuilder-core';
import { describe, expect, it } from 'vitest';
import { StorageTranscriptStore, TRANSCRIPT_PAGE_SIZE, type TranscriptEntry } from '../../../src/transcript';

const entry = (n: number): TranscriptEntry => ({ role: n % 2 ? 'bot' : 'customer', text: `m${n}`, at: new Date(n * 1000).toISOString() });
const texts = (entries: TranscriptEntry[]) => entries.map((e) => e.text);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('StorageTranscriptStore', () => {
  it('keeps every entry in order while a turn rewrites at most one page of them', async () => {
    const memory: Record<string, string> = {};
    const storage = new MemoryStorage(memory);
    const store = new StorageTranscriptStore(storage, 500);
    for (let n = 0; n < 130; n += 2) await store.append('nimchat', '1:7', [entry(n), entry(n + 1)]);
    expect(texts(await store.list('nimchat', '1:7'))).toEqual(range(0, 130).map((n) => `m${n}`));
    const head = JSON.parse(memory['transcript/nimchat/1:7']!) as { entries: unknown[]; pages: number };
    expect(head.entries.length).toBeLessThanOrEqual(TRANSCRIPT_PAGE_SIZE);
    expect(head.pages).toBe(Math.ceil(130 / TRANSCRIPT_PAGE_SIZE) - 1);
  });

  it('drops the oldest pages past maxEntries, and clear removes every page', async () => {
    const memory: Record<string, string> = {};
    const store = new StorageTranscriptStore(new MemoryStorage(memory), 100);
    for (let n = 0; n < 260; n++) await store.append('woztell', 'c:m', [entry(n)]);
    const listed = texts(await store.list('woztell', 'c:m'));
    expect(listed).toEqual(range(160, 260).map((n) => `m${n}`));
    expect(Object.keys(memory).filter((k) => k.startsWith('transcript/') && memory[k] !== undefined).length).toBeLessThanOrEqual(100 / TRANSCRIPT_PAGE_SIZE + 1);
    await store.clear('woztell', 'c:m');
    expect(Object.keys(memory).filter((k) => k.startsWith('transcript/') && memory[k] !== undefined)).toEqual([]);
    expect(await store.list('woztell', 'c:m')).toEqual([]);
  });

  it('reads and extends a transcript stored before paging (one key holding every entry)', async () => {
    const storage = new MemoryStorage();
    await storage.write({ 'transcript/nimchat/1:9': { entries: range(0, 120).map(entry) } });
    const store = new StorageTranscriptStore(storage);
    expect(texts(await store.list('nimchat', '1:9'))).toHaveLength(120);
    await store.append('nimchat', '1:9', [entry(120)]);
    expect(texts(await store.list('nimchat', '1:9'))).toEqual(range(0, 121).map((n) => `m${n}`));
  });
});
