#!/usr/bin/env node
// A $BROWSER for keyless's tests: headless Debian Chromium, driven by
// playwright-core, that completes whatever the test provider (oidc-provider
// devInteractions) shows.
//
//   node browser.mjs <url>          (or BROWSER=/path/to/browser)
//
// env:
//   KEYLESS_TEST_BROWSER_LOG      append "<ISO time> <url>" to this file
//   KEYLESS_TEST_USER             login name (default "alice"); any password
//   KEYLESS_TEST_BROWSER_MODE     "approve" (default) or "deny" (click
//                                 [ Cancel ] on the consent page)
//   KEYLESS_TEST_BROWSER_TIMEOUT  seconds for the whole run (default 60)
//   KEYLESS_TEST_CHROMIUM         Chromium binary (default /usr/bin/chromium)
//   KEYLESS_TEST_BROWSER_SCREENSHOT  on failure, save a PNG here
//
// Ends when the browser lands on a loopback .../callback page (auth code flow;
// the page text is printed on stderr) or on the provider's device-flow
// success / "interrupted" page. Exit 0 when the outcome matches the mode
// (approve: callback carries `code` / device success; deny: callback carries
// error=access_denied / device request interrupted), 1 otherwise, 2 on usage.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const url = process.argv[2];
const log = (...a) => console.error('browser.mjs:', ...a);

if (!url || process.argv.length > 3) {
  log('usage: browser.mjs <url>');
  process.exit(2);
}

if (process.env.KEYLESS_TEST_BROWSER_LOG) {
  try {
    fs.appendFileSync(process.env.KEYLESS_TEST_BROWSER_LOG, `${new Date().toISOString()} ${url}\n`);
  } catch (e) {
    log(`cannot append to KEYLESS_TEST_BROWSER_LOG: ${e.message}`);
    process.exit(1);
  }
}

const USER = process.env.KEYLESS_TEST_USER || 'alice';
const MODE = process.env.KEYLESS_TEST_BROWSER_MODE || 'approve';
const TIMEOUT_MS = 1000 * Number(process.env.KEYLESS_TEST_BROWSER_TIMEOUT || 60);
const CHROMIUM = process.env.KEYLESS_TEST_CHROMIUM || '/usr/bin/chromium';

if (!['approve', 'deny'].includes(MODE)) {
  log(`KEYLESS_TEST_BROWSER_MODE must be approve or deny, got ${MODE}`);
  process.exit(2);
}
let parsed;
try {
  parsed = new URL(url);
} catch {
  log(`not a URL: ${url}`);
  process.exit(2);
}
if (!['http:', 'https:'].includes(parsed.protocol)) {
  log(`refusing non-http(s) URL: ${url}`);
  process.exit(2);
}
if (!fs.existsSync(CHROMIUM)) {
  log(`${CHROMIUM} not found; run install.sh (apt-get install chromium)`);
  process.exit(1);
}

const { chromium } = await import('playwright-core');

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const isLoopback = (u) => {
  try { return LOOPBACK.has(new URL(u).hostname); } catch { return false; }
};
const isCallback = (u) => {
  try {
    const p = new URL(u);
    return p.protocol === 'http:' && LOOPBACK.has(p.hostname) && /^\/callback(\/|$)/.test(p.pathname);
  } catch { return false; }
};

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-test-chromium-'));
let context;
let exitCode = 1;
const deadline = Date.now() + TIMEOUT_MS;
const remaining = () => Math.max(1, deadline - Date.now());

const hardTimer = setTimeout(() => {
  log(`timed out after ${TIMEOUT_MS / 1000}s`);
  cleanup().finally(() => process.exit(1));
}, TIMEOUT_MS + 10000);
hardTimer.unref();

async function cleanup() {
  try { await context?.close(); } catch { /* ignore */ }
  // Chromium's helpers may still be writing for a moment after close.
  for (let i = 0; i < 20 && fs.existsSync(userDataDir); i += 1) {
    try { fs.rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 }); } catch { /* retry */ }
    if (fs.existsSync(userDataDir)) await new Promise((r) => setTimeout(r, 100));
  }
}

// What is the page showing?
async function detect(page) {
  const u = page.url();
  if (isCallback(u)) return 'callback';
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const text = document.body ? document.body.innerText : '';
    if (q('form[id="op.deviceConfirmForm"]')) return 'device-confirm';
    if (q('form[id="op.deviceInputForm"]')) {
      if (/interrupted/i.test(text)) return 'device-aborted';
      if (/incorrect|error|expired|already/i.test(text)) return 'device-error';
      return 'device-input';
    }
    if (q('input[name="prompt"][value="login"]')) return 'login';
    if (q('input[name="prompt"][value="consent"]')) return 'consent';
    if (/Sign-in Success/i.test(document.title) || /Sign-in Success/.test(text)) return 'device-success';
    if (/something went wrong/i.test(document.title)) return 'error';
    // form_post auto-submit page and other transient pages
    if (document.forms.length === 1 && q('form[method="post" i]') && !q('button, input[type="submit"]')) return 'transient';
    return 'unknown';
  }).catch(() => 'transient'); // navigation in progress destroys the context
}

async function pageText(page) {
  return page.evaluate(() => (document.body ? document.body.innerText : '')).catch(() => '');
}

// Wait until the page shows something other than `prev` at a different URL
// or state (a click triggers a navigation).
async function waitForChange(page, prevUrl, prevState) {
  for (;;) {
    if (Date.now() > deadline) throw new Error(`timed out waiting to leave ${prevState} (${prevUrl})`);
    await page.waitForLoadState('load', { timeout: remaining() }).catch(() => {});
    const state = await detect(page);
    if (state !== 'transient' && (page.url() !== prevUrl || state !== prevState)) return state;
    await page.waitForTimeout(100);
  }
}

async function run() {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
    timeout: 30000,
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15000);

  // Only loopback traffic: the provider's pages @import a Google font, and
  // nothing off this machine is reachable anyway.
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (isLoopback(u) || u.startsWith('data:') || u.startsWith('about:')) return route.continue();
    return route.abort('blockedbyclient');
  });

  // The CLI's loopback listener may close right after answering; a failed
  // load of the callback is still "landed on the callback".
  let lastCallbackUrl;
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame() && isCallback(f.url())) lastCallbackUrl = f.url();
  });
  let callbackFailure;
  page.on('request', (r) => {
    if (r.isNavigationRequest() && isCallback(r.url())) lastCallbackUrl = r.url();
  });
  page.on('requestfailed', (r) => {
    if (r.isNavigationRequest() && isCallback(r.url())) callbackFailure = r.failure()?.errorText || 'failed';
  });

  log(`opening ${url}`);
  try {
    await page.goto(url, { waitUntil: 'load', timeout: remaining() });
  } catch (e) {
    if (!lastCallbackUrl) throw e;
  }

  let state = lastCallbackUrl ? 'callback' : await detect(page);
  while (state === 'transient' && Date.now() < deadline) {
    await page.waitForTimeout(100);
    state = lastCallbackUrl ? 'callback' : await detect(page);
  }
  const seen = [];
  for (let step = 0; step < 20; step += 1) {
    seen.push(state);
    const here = page.url();
    switch (state) {
      case 'callback': {
        await page.waitForLoadState('load', { timeout: remaining() }).catch(() => {});
        const cb = new URL(isCallback(page.url()) ? page.url() : lastCallbackUrl);
        const text = await pageText(page);
        log(`landed on ${cb.origin}${cb.pathname} (${[...cb.searchParams.keys()].join(', ')})`);
        if (callbackFailure || page.url().startsWith('chrome-error:')) {
          log(`the loopback listener at ${cb.origin} did not answer: ${callbackFailure}`);
          return 1;
        }
        process.stderr.write(`${text.trim()}\n`);
        const err = cb.searchParams.get('error');
        if (MODE === 'approve') {
          if (cb.searchParams.get('code')) return 0;
          log(`callback without code: error=${err} ${cb.searchParams.get('error_description') || ''}`);
          return 1;
        }
        if (err === 'access_denied') return 0;
        log(`deny mode, but callback has ${err ? `error=${err}` : 'a code'}`);
        return 1;
      }
      case 'device-input': {
        log('device user-code input page without a code: open verification_uri_complete instead');
        return 1;
      }
      case 'device-confirm': {
        log('device confirmation: Continue');
        await page.locator('button[autofocus][form="op.deviceConfirmForm"]').click();
        break;
      }
      case 'login': {
        log(`login as ${USER}`);
        await page.locator('input[name="login"]').fill(USER);
        await page.locator('input[name="password"]').fill('any-password');
        await page.locator('button[type="submit"]').click();
        break;
      }
      case 'consent': {
        if (MODE === 'deny') {
          log('consent: [ Cancel ]');
          await page.locator('a', { hasText: 'Cancel' }).click();
        } else {
          log('consent: Continue');
          await page.locator('button[type="submit"]').click();
        }
        break;
      }
      case 'device-success': {
        log('device flow: sign-in success page');
        process.stderr.write(`${(await pageText(page)).trim()}\n`);
        if (MODE === 'approve') return 0;
        log('deny mode, but the provider reports success');
        return 1;
      }
      case 'device-aborted': {
        log('device flow: sign-in request interrupted (denied)');
        process.stderr.write(`${(await pageText(page)).trim()}\n`);
        return MODE === 'deny' ? 0 : 1;
      }
      case 'device-error':
      case 'error': {
        log(`provider error page at ${here}:`);
        process.stderr.write(`${(await pageText(page)).trim()}\n`);
        return 1;
      }
      default: {
        log(`unrecognised page at ${here}:`);
        process.stderr.write(`${(await pageText(page)).trim().slice(0, 2000)}\n`);
        return 1;
      }
    }
    try {
      state = await waitForChange(page, here, state);
    } catch (e) {
      if (!lastCallbackUrl) throw e;
    }
    if (lastCallbackUrl) state = 'callback';
  }
  log(`too many steps: ${seen.join(' -> ')}`);
  return 1;
}

try {
  exitCode = await run();
} catch (e) {
  log(`failed: ${e.message.split('\n')[0]}`);
  const shot = process.env.KEYLESS_TEST_BROWSER_SCREENSHOT;
  if (shot) {
    try { await context?.pages()[0]?.screenshot({ path: shot }); } catch { /* ignore */ }
  }
  exitCode = 1;
}
await cleanup();
clearTimeout(hardTimer);
process.exit(exitCode);
