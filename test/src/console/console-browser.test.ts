/**
 * The console in a real browser (Debian's chromium, headless, driven by playwright-core): sandbox mode,
 * a customer writes in the page's Nimchat chat, the conversation appears in the list without a reload,
 * and its timeline shows the webhook and the reply sent. Skipped, saying so, where /usr/bin/chromium is
 * not installed (`.ci/run` installs it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startSandboxApp } from '../../helpers/sandbox-app';

const CHROMIUM = '/usr/bin/chromium';
const available = fs.existsSync(CHROMIUM);
if (!available) console.warn(`console browser test skipped: ${CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)`);

describe.skipIf(!available)(`console in a browser (${CHROMIUM}, headless)`, () => {
  let s: Awaited<ReturnType<typeof startSandboxApp>>;
  let browser: Browser;

  beforeAll(async () => {
    s = await startSandboxApp({}, { console: { sampleEveryMs: 1000, livePollMs: 200 } });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Root on a closed network: no sandbox, nothing phoning home (playwright gives it a fresh profile).
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('a customer writes in the page; the conversation appears live and its timeline shows the webhook and the reply', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
    await page.goto(`${s.url}/console`);
    await page.getByText('No conversation yet.').waitFor();
    await page.locator('.live.on').waitFor();

    await page.click('[data-testid=nimchat-new-customer]');
    const input = page.locator('[data-testid=nimchat-chat] input');
    await input.fill('hello');
    await input.press('Enter');
    // The bot's menu reaches the customer's chat, with its choices as buttons.
    await page.locator('[data-testid=nimchat-chat] .chat-line.bot').filter({ hasText: 'How can I help you today?' }).waitFor({ timeout: 10_000 });
    await page.locator('[data-testid=nimchat-chat] .choices button', { hasText: 'Talk to a human' }).waitFor();

    // The list shows it without a reload.
    const row = page.locator('[data-conversation="1:1"]');
    await row.waitFor({ timeout: 10_000 });
    await expect(row.textContent()).resolves.toMatch(/How can I help you today\?/);
    expect(navigations).toBe(1);
    await row.click();

    const timeline = page.locator('[data-testid=timeline]');
    await timeline.locator('[data-kind=webhook]').first().waitFor({ timeout: 10_000 });
    await expect(timeline.locator('[data-kind=webhook]').first().textContent()).resolves.toMatch(/Webhook received: message.*hello/);
    await timeline.locator('[data-kind=delivery][data-outcome=done]').first().waitFor({ timeout: 10_000 });
    await expect(timeline.locator('[data-kind=queued]').first().textContent()).resolves.toMatch(/How can I help you today\?/);

    // A handoff chosen with the menu's button: live, the owner turns human in the list.
    await page.click('[data-testid=nimchat-chat] .choices button:has-text("Talk to a human")');
    await page.locator('[data-conversation="1:1"][data-owner=human]').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid=nimchat-agent]').waitFor();
    await timeline.locator('[data-kind=ownership]', { hasText: 'human' }).first().waitFor({ timeout: 10_000 });
    expect(navigations).toBe(1);
    await page.screenshot({ path: path.join(os.tmpdir(), 'console-browser-test.png') });
    expect(errors).toEqual([]);
  }, 60_000);
});
