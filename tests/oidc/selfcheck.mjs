#!/usr/bin/env node
// Proves the harness without keyless:
//   (a) auth code + PKCE through browser.mjs and a loopback listener, ID token
//       checked against the JWKS, refresh rotation and replay detection,
//       access_denied through KEYLESS_TEST_BROWSER_MODE=deny;
//   (b) device flow approved by browser.mjs (interval, slow_down, refresh,
//       revocation), a denied device flow, and expired_token;
//   (c) client_credentials for keyless-ci -> JWT with aud = resource;
//   (d) /__stats.
// Exit 0 when everything holds. Prints "N passed, N failed" last.

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as readline from 'node:readline';

import * as jose from 'jose';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESOURCE = 'https://api.anthropic.com';
const CLIENT_ID = 'keyless-cli';
const SCOPE = 'openid email profile offline_access';
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'oidc-selfcheck-'));
const BROWSER_LOG = path.join(TMP, 'browser.log');

let passed = 0;
let failed = 0;
const children = new Set();

function ok(cond, what, extra) {
  if (cond) {
    passed += 1;
    console.log(`ok - ${what}`);
  } else {
    failed += 1;
    console.log(`not ok - ${what}${extra !== undefined ? `: ${typeof extra === 'string' ? extra : JSON.stringify(extra)}` : ''}`);
  }
  return cond;
}
class Fatal extends Error {}
function must(cond, what, extra) {
  if (!ok(cond, what, extra)) throw new Fatal(what);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const b64url = (buf) => Buffer.from(buf).toString('base64url');

// ------------------------------------------------------------ processes
async function startProvider(env = {}) {
  const child = spawn(process.execPath, [path.join(HERE, 'provider.mjs')], {
    env: { ...process.env, OIDC_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const errLog = fs.createWriteStream(path.join(TMP, `provider-${child.pid}.log`));
  child.stderr.pipe(errLog);
  child.on('exit', () => children.delete(child));
  const rl = readline.createInterface({ input: child.stdout });
  const line = await Promise.race([
    new Promise((resolve) => rl.once('line', resolve)),
    new Promise((_, reject) => child.once('exit', (c) => reject(new Error(`provider exited ${c}; see ${errLog.path}`)))),
    sleep(20000).then(() => { throw new Error('provider not ready in 20 s'); }),
  ]);
  const info = JSON.parse(line);
  return { child, ...info };
}

async function stopProvider(p) {
  if (p.child.exitCode !== null) return p.child.exitCode;
  const done = new Promise((r) => p.child.once('exit', (code, sig) => r(code ?? sig)));
  p.child.kill('SIGTERM');
  return Promise.race([done, sleep(5000).then(() => { p.child.kill('SIGKILL'); return 'killed'; })]);
}

function runBrowser(url, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(path.join(HERE, 'browser'), [url], {
      env: { ...process.env, KEYLESS_TEST_BROWSER_LOG: BROWSER_LOG, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.add(child);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code) => { children.delete(child); resolve({ code, stderr }); });
  });
}

// ------------------------------------------------------------ http helpers
async function form(url, params, { basic } = {}) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64')}`;
  const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params) });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : {}; } catch { json = { raw: text }; }
  return { status: res.status, json };
}

async function getJson(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  return res.json();
}

// One-shot loopback redirect listener, like the CLI's.
async function loopbackListener() {
  let resolveCb;
  const got = new Promise((r) => { resolveCb = r; });
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    if (u.pathname !== '/callback') { res.writeHead(404); res.end(); return; }
    const params = Object.fromEntries(u.searchParams);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', connection: 'close' });
    res.end(params.code
      ? '<!doctype html><title>Signed in</title><p>selfcheck: signed in, you can close this tab.</p>'
      : `<!doctype html><title>Sign-in failed</title><p>selfcheck: sign-in failed: ${String(params.error).replace(/[<>&]/g, '')}</p>`);
    resolveCb(params);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { port: srv.address().port, got, close: () => srv.close() };
}

function pkce() {
  const verifier = b64url(crypto.randomBytes(32));
  const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

async function verifyIdToken(idToken, disc, jwks, { nonce } = {}) {
  const { payload, protectedHeader } = await jose.jwtVerify(idToken, jwks, {
    issuer: disc.issuer,
    audience: CLIENT_ID,
    algorithms: ['RS256'],
  });
  if (nonce !== undefined && payload.nonce !== nonce) throw new Error(`nonce mismatch: ${payload.nonce}`);
  return { payload, protectedHeader };
}

async function pollDevice(disc, deviceCode, intervalS, { maxMs = 60000 } = {}) {
  let interval = intervalS;
  const start = Date.now();
  const seen = [];
  for (;;) {
    if (Date.now() - start > maxMs) return { timeout: true, seen };
    await sleep(interval * 1000);
    const r = await form(disc.token_endpoint, {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: deviceCode,
      client_id: CLIENT_ID,
    });
    seen.push(r.json.error || 'tokens');
    if (r.status === 200) return { tokens: r.json, seen };
    if (r.json.error === 'authorization_pending') continue;
    if (r.json.error === 'slow_down') { interval += 5; continue; }
    return { error: r.json.error, json: r.json, seen };
  }
}

// ------------------------------------------------------------ checks
async function main() {
  must(fs.existsSync('/usr/bin/chromium') || process.env.KEYLESS_TEST_CHROMIUM, '/usr/bin/chromium present (run install.sh)');

  const p = await startProvider();
  console.log(`# provider ${p.issuer}`);
  try {
    const disc = await getJson(`${p.issuer}/.well-known/openid-configuration`);
    must(disc.issuer === p.issuer, 'discovery issuer matches');
    ok(disc.code_challenge_methods_supported?.join() === 'S256', 'discovery: PKCE S256 only');
    ok(!!disc.device_authorization_endpoint && !!disc.revocation_endpoint, 'discovery: device + revocation endpoints');
    const jwks = jose.createRemoteJWKSet(new URL(disc.jwks_uri));
    const jwksDoc = await getJson(disc.jwks_uri);
    ok(jwksDoc.keys?.length === 1 && jwksDoc.keys[0].kid && !jwksDoc.keys[0].d, 'JWKS: one public RSA key with kid');

    // ---------------------------------------------------------------- (a)
    console.log('# (a) authorization code + PKCE via browser.mjs');
    const lb = await loopbackListener();
    const redirectUri = `http://127.0.0.1:${lb.port}/callback`;
    const { verifier, challenge } = pkce();
    const state = b64url(crypto.randomBytes(16));
    const nonce = b64url(crypto.randomBytes(16));
    const authUrl = new URL(disc.authorization_endpoint);
    authUrl.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      scope: SCOPE,
      redirect_uri: redirectUri,
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const [br, cb] = await Promise.all([runBrowser(authUrl.href), lb.got]);
    lb.close();
    ok(br.code === 0, 'browser.mjs exits 0 on the callback', br.stderr);
    must(cb.state === state && !!cb.code, 'callback carries code and our state', cb);
    ok(cb.iss === p.issuer, 'callback carries iss (RFC 9207)');
    const log = fs.existsSync(BROWSER_LOG) ? fs.readFileSync(BROWSER_LOG, 'utf8') : '';
    ok(log.includes(authUrl.href) && /^\d{4}-\d\d-\d\dT[^ ]+Z /.test(log), 'KEYLESS_TEST_BROWSER_LOG has "<ISO time> <url>"');

    const bad = await form(disc.token_endpoint, {
      grant_type: 'authorization_code', code: cb.code, redirect_uri: redirectUri, code_verifier: pkce().verifier, client_id: CLIENT_ID,
    });
    ok(bad.status === 400 && bad.json.error === 'invalid_grant', 'wrong PKCE verifier -> 400 invalid_grant', bad);

    const tok = await form(disc.token_endpoint, {
      grant_type: 'authorization_code', code: cb.code, redirect_uri: redirectUri, code_verifier: verifier, client_id: CLIENT_ID,
    });
    must(tok.status === 200 && tok.json.id_token && tok.json.refresh_token, 'code exchange -> id_token + refresh_token', tok);
    const { payload: idp, protectedHeader: idh } = await verifyIdToken(tok.json.id_token, disc, jwks, { nonce });
    ok(idh.alg === 'RS256' && idh.kid === jwksDoc.keys[0].kid, 'ID token RS256 with the JWKS kid');
    ok(idp.sub === 'alice' && idp.email === 'alice@example.test' && idp.email_verified === true, 'ID token sub/email/email_verified', idp);
    ok(idp.exp - idp.iat === 300, 'ID token lifetime = OIDC_ID_TOKEN_TTL default 300 s', idp);
    ok(typeof idp.jti === 'string' && idp.jti.length > 0, 'ID token carries a jti (OIDC_ID_TOKEN_JTI default 1)', idp);
    const { payload: atp, protectedHeader: ath } = await jose.jwtVerify(tok.json.access_token, jwks, {
      issuer: disc.issuer, audience: RESOURCE, typ: 'at+jwt',
    });
    ok(atp.client_id === CLIENT_ID && atp.sub === 'alice' && ath.kid, `native access token is a JWT for ${RESOURCE} (default resource)`, atp);

    const replayCode = await form(disc.token_endpoint, {
      grant_type: 'authorization_code', code: cb.code, redirect_uri: redirectUri, code_verifier: verifier, client_id: CLIENT_ID,
    });
    ok(replayCode.status === 400 && replayCode.json.error === 'invalid_grant', 'code reuse -> invalid_grant');
    // code reuse revokes the grant: that refresh token is dead now; start over.

    const lb2 = await loopbackListener();
    const pk2 = pkce();
    const st2 = b64url(crypto.randomBytes(16));
    const nonce2 = b64url(crypto.randomBytes(16));
    const redirect2 = `http://localhost:${lb2.port}/callback`;
    authUrl.search = new URLSearchParams({
      client_id: CLIENT_ID, response_type: 'code', scope: SCOPE, redirect_uri: redirect2, state: st2, nonce: nonce2,
      code_challenge: pk2.challenge, code_challenge_method: 'S256', resource: RESOURCE,
    }).toString();
    const [br2, cb2] = await Promise.all([runBrowser(authUrl.href, { KEYLESS_TEST_USER: 'bob' }), lb2.got]);
    lb2.close();
    must(br2.code === 0 && cb2.code && cb2.state === st2, 'second sign-in (localhost redirect, explicit resource, user bob)', br2.stderr);
    const t0 = await form(disc.token_endpoint, {
      grant_type: 'authorization_code', code: cb2.code, redirect_uri: redirect2, code_verifier: pk2.verifier, client_id: CLIENT_ID, resource: RESOURCE,
    });
    must(t0.status === 200, 'code exchange with resource param', t0);
    const id0 = await verifyIdToken(t0.json.id_token, disc, jwks, { nonce: nonce2 });
    ok(id0.payload.sub === 'bob' && id0.payload.email === 'bob@example.test', 'ID token for bob');

    const rt0 = t0.json.refresh_token;
    const t1 = await form(disc.token_endpoint, { grant_type: 'refresh_token', refresh_token: rt0, client_id: CLIENT_ID });
    must(t1.status === 200 && t1.json.refresh_token && t1.json.refresh_token !== rt0, 'refresh #1 rotates the refresh token', t1);
    const id1 = await verifyIdToken(t1.json.id_token, disc, jwks);
    ok(id1.payload.sub === 'bob' && id1.payload.email === 'bob@example.test' && id1.payload.jti !== id0.payload.jti, 'refresh #1 returns a new, valid ID token (email included, new jti)', { id0: id0.payload, id1: id1.payload });
    const t2 = await form(disc.token_endpoint, { grant_type: 'refresh_token', refresh_token: t1.json.refresh_token, client_id: CLIENT_ID });
    must(t2.status === 200 && t2.json.refresh_token && t2.json.refresh_token !== t1.json.refresh_token, 'refresh #2 rotates again', t2);
    await jose.jwtVerify(t2.json.access_token, jwks, { issuer: disc.issuer, audience: RESOURCE });
    ok(true, 'refreshed access token is a JWT for the resource');
    const rp = await form(disc.token_endpoint, { grant_type: 'refresh_token', refresh_token: rt0, client_id: CLIENT_ID });
    ok(rp.status === 400 && rp.json.error === 'invalid_grant', 'replayed first refresh token -> 400 invalid_grant', rp);
    const after = await form(disc.token_endpoint, { grant_type: 'refresh_token', refresh_token: t2.json.refresh_token, client_id: CLIENT_ID });
    ok(after.status === 400 && after.json.error === 'invalid_grant', 'replay detection revoked the whole grant: newest refresh token dead too', after);

    // access_denied through the consent page
    const lb3 = await loopbackListener();
    const pk3 = pkce();
    const st3 = b64url(crypto.randomBytes(16));
    authUrl.search = new URLSearchParams({
      client_id: CLIENT_ID, response_type: 'code', scope: SCOPE, redirect_uri: `http://127.0.0.1:${lb3.port}/callback`, state: st3,
      nonce: 'n', code_challenge: pk3.challenge, code_challenge_method: 'S256',
    }).toString();
    const [br3, cb3] = await Promise.all([runBrowser(authUrl.href, { KEYLESS_TEST_BROWSER_MODE: 'deny' }), lb3.got]);
    lb3.close();
    ok(br3.code === 0 && cb3.error === 'access_denied' && cb3.state === st3, 'deny mode -> callback error=access_denied with state', { cb3, err: br3.stderr });

    // no PKCE -> error redirect to the callback
    const lb4 = await loopbackListener();
    authUrl.search = new URLSearchParams({
      client_id: CLIENT_ID, response_type: 'code', scope: SCOPE, redirect_uri: `http://127.0.0.1:${lb4.port}/callback`, state: 'x',
    }).toString();
    const noPkce = await fetch(authUrl, { redirect: 'manual' });
    const loc = new URL(noPkce.headers.get('location') || 'http://invalid/');
    lb4.close();
    ok(loc.searchParams.get('error') === 'invalid_request', 'authorization without code_challenge -> invalid_request', loc.href);

    // ---------------------------------------------------------------- (b)
    console.log('# (b) device flow via browser.mjs');
    const da = await form(disc.device_authorization_endpoint, { client_id: CLIENT_ID, scope: SCOPE });
    must(da.status === 200 && da.json.device_code && da.json.user_code && da.json.verification_uri_complete, 'device authorization', da);
    ok(da.json.interval === 1 && da.json.expires_in > 0, 'device authorization has interval 1 (OIDC_DEVICE_INTERVAL) and expires_in', da.json);
    const poll = (dc) => form(disc.token_endpoint, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: dc, client_id: CLIENT_ID });
    const pend = await poll(da.json.device_code);
    ok(pend.status === 400 && pend.json.error === 'authorization_pending', 'first poll -> authorization_pending', pend);
    const fast = await poll(da.json.device_code);
    ok(fast.status === 400 && fast.json.error === 'slow_down', 'immediate second poll -> slow_down', fast);
    const [brd, dres] = await Promise.all([
      runBrowser(da.json.verification_uri_complete),
      pollDevice(disc, da.json.device_code, da.json.interval + 5),
    ]);
    ok(brd.code === 0, 'browser.mjs approves the device code and exits 0', brd.stderr);
    must(dres.tokens?.id_token && dres.tokens.refresh_token, 'device flow yields id_token + refresh_token', dres);
    ok(!dres.seen.includes('slow_down'), 'polling at interval+5 after slow_down is accepted', dres.seen);
    const idd = await verifyIdToken(dres.tokens.id_token, disc, jwks);
    ok(idd.payload.sub === 'alice' && idd.payload.email === 'alice@example.test', 'device ID token verifies');
    const dr0 = await form(disc.token_endpoint, { grant_type: 'refresh_token', refresh_token: dres.tokens.refresh_token, client_id: CLIENT_ID });
    must(dr0.status === 200, 'refresh after device flow', dr0);
    const setCfg = async (patch) => (await fetch(`${p.issuer}/__config`, { method: 'POST', body: JSON.stringify(patch) })).json();
    ok((await setCfg({ refresh_id_token: 'none' })).refresh_id_token === 'none', 'POST /__config refresh_id_token=none');
    const drn = await form(disc.token_endpoint, { grant_type: 'refresh_token', refresh_token: dr0.json.refresh_token, client_id: CLIENT_ID });
    ok(drn.status === 200 && drn.json.refresh_token && drn.json.id_token === undefined, 'refresh_id_token=none: refresh response has no id_token', drn);
    await setCfg({ refresh_id_token: 'same' });
    const dr1 = await form(disc.token_endpoint, { grant_type: 'refresh_token', refresh_token: drn.json.refresh_token, client_id: CLIENT_ID });
    ok(dr1.status === 200 && dr1.json.id_token === dres.tokens.id_token, 'refresh_id_token=same: refresh returns the first ID token again', dr1);
    await setCfg({ refresh_id_token: 'new' });

    // fault injection for refusal tests
    let rtF = dr1.json.refresh_token;
    const nowS = () => Math.floor(Date.now() / 1000);
    const faults = {
      expired: { throws: true, check: (c) => c.exp < nowS() },
      future_iat: { throws: false, check: (c) => c.iat > nowS() + 600 },
      bad_signature: { throws: true, check: (c, h) => h.kid === jwksDoc.keys[0].kid },
      wrong_nonce: { throws: false, check: (c) => c.nonce !== idd.payload.nonce },
      wrong_aud: { throws: true, check: (c) => c.aud === 'not-keyless-cli' },
      wrong_iss: { throws: true, check: (c) => c.iss !== disc.issuer },
      alg_none: { throws: true, check: (c, h) => h.alg === 'none' },
    };
    for (const [fault, want] of Object.entries(faults)) {
      await setCfg({ id_token_fault: fault });
      const r = await form(disc.token_endpoint, { grant_type: 'refresh_token', refresh_token: rtF, client_id: CLIENT_ID });
      if (!ok(r.status === 200 && r.json.id_token, `id_token_fault=${fault}: refresh still answers 200`, r)) break;
      rtF = r.json.refresh_token;
      let threw = false;
      try { await verifyIdToken(r.json.id_token, disc, jwks); } catch { threw = true; }
      const c = jose.decodeJwt(r.json.id_token);
      const h = jose.decodeProtectedHeader(r.json.id_token);
      ok(threw === want.throws && want.check(c, h), `id_token_fault=${fault}: ID token is broken as asked`, { threw, c, h });
    }
    await setCfg({ id_token_fault: 'none' });
    const clean = await form(disc.token_endpoint, { grant_type: 'refresh_token', refresh_token: rtF, client_id: CLIENT_ID });
    must(clean.status === 200, 'refresh after faults', clean);
    await verifyIdToken(clean.json.id_token, disc, jwks);
    ok(true, 'id_token_fault=none: ID token verifies again');
    const rv = await form(disc.revocation_endpoint, { token: clean.json.refresh_token, token_type_hint: 'refresh_token', client_id: CLIENT_ID });
    ok(rv.status === 200, 'revocation (RFC 7009) -> 200', rv);
    const dead = await form(disc.token_endpoint, { grant_type: 'refresh_token', refresh_token: clean.json.refresh_token, client_id: CLIENT_ID });
    ok(dead.status === 400 && dead.json.error === 'invalid_grant', 'revoked refresh token -> invalid_grant', dead);
    const rvJwt = await form(disc.revocation_endpoint, { token: clean.json.access_token, client_id: CLIENT_ID });
    ok(rvJwt.status === 400 && rvJwt.json.error === 'unsupported_token_type', 'revoking a JWT access token -> unsupported_token_type', rvJwt);

    const dd = await form(disc.device_authorization_endpoint, { client_id: CLIENT_ID, scope: SCOPE });
    const [brdd, ddres] = await Promise.all([
      runBrowser(dd.json.verification_uri_complete, { KEYLESS_TEST_BROWSER_MODE: 'deny' }),
      pollDevice(disc, dd.json.device_code, dd.json.interval),
    ]);
    ok(brdd.code === 0, 'browser.mjs deny mode on the device flow exits 0', brdd.stderr);
    ok(ddres.error === 'access_denied', 'denied device flow -> access_denied', ddres);

    // ---------------------------------------------------------------- (c)
    console.log('# (c) client_credentials');
    const cc = await form(disc.token_endpoint, { grant_type: 'client_credentials', resource: RESOURCE }, { basic: ['keyless-ci', 'ci-secret'] });
    must(cc.status === 200 && cc.json.access_token, 'client_credentials (client_secret_basic) with resource', cc);
    const { payload: ccp, protectedHeader: cch } = await jose.jwtVerify(cc.json.access_token, jwks, {
      issuer: disc.issuer, audience: RESOURCE, typ: 'at+jwt',
    });
    ok(ccp.aud === RESOURCE && ccp.client_id === 'keyless-ci' && ccp.sub === 'keyless-ci' && cch.alg === 'RS256', 'client_credentials JWT: aud = resource, sub = client_id', ccp);
    const ccPost = await form(disc.token_endpoint, {
      grant_type: 'client_credentials', resource: RESOURCE, client_id: 'keyless-ci', client_secret: 'ci-secret', scope: 'api',
    });
    ok(ccPost.status === 200 && ccPost.json.scope === 'api' && jose.decodeJwt(ccPost.json.access_token).aud === RESOURCE, 'client_credentials (client_secret_post, scope api) works too', ccPost);
    const ccNoRes = await form(disc.token_endpoint, { grant_type: 'client_credentials' }, { basic: ['keyless-ci', 'ci-secret'] });
    ok(ccNoRes.status === 200 && jose.decodeJwt(ccNoRes.json.access_token).aud === RESOURCE, 'client_credentials without resource -> default resource JWT', ccNoRes);
    const ccBad = await form(disc.token_endpoint, { grant_type: 'client_credentials', resource: RESOURCE }, { basic: ['keyless-ci', 'wrong'] });
    ok(ccBad.status === 401 && ccBad.json.error === 'invalid_client', 'wrong client secret -> 401 invalid_client', ccBad);
    const ccOther = await form(disc.token_endpoint, { grant_type: 'client_credentials', resource: 'https://other.example' }, { basic: ['keyless-ci', 'ci-secret'] });
    ok(ccOther.status === 400 && ccOther.json.error === 'invalid_target', 'unknown resource -> invalid_target', ccOther);

    // ---------------------------------------------------------------- (d)
    console.log('# (d) stats');
    const stats = await getJson(p.stats);
    console.log(`# ${JSON.stringify(stats)}`);
    ok(stats.grants.authorization_code === 2, 'stats: 2 authorization_code grants', stats.grants);
    ok(stats.grants.refresh_token === 13, 'stats: 13 refresh_token grants', stats.grants);
    ok(stats.grants.device_code === 1, 'stats: 1 device_code grant', stats.grants);
    ok(stats.grants.client_credentials === 3, 'stats: 3 client_credentials grants', stats.grants);
    ok(stats.refresh_replays === 3, 'stats: 3 refresh replays (used, family-revoked, revoked)', stats);
    ok(stats.revocations === 1, 'stats: 1 revocation', stats);
    ok(stats.device_polls.slow_down >= 1 && stats.device_polls.access_denied === 1, 'stats: device polls counted', stats.device_polls);
    const reset = await (await fetch(`${p.issuer}/__stats/reset`, { method: 'POST' })).json();
    ok(reset.grants.refresh_token === 0 && reset.refresh_replays === 0, 'POST /__stats/reset zeroes the counters', reset);
  } finally {
    const code = await stopProvider(p);
    ok(code === 0, 'provider exits 0 on SIGTERM', code);
  }

  // ---------------------------------------------------------------- expired_token
  console.log('# (b) expired_token with OIDC_DEVICE_CODE_TTL=2; opaque access tokens with OIDC_NATIVE_DEFAULT_RESOURCE=""');
  const p2 = await startProvider({
    OIDC_DEVICE_CODE_TTL: '2', OIDC_DEVICE_INTERVAL: '0', OIDC_ID_TOKEN_TTL: '7', OIDC_NATIVE_DEFAULT_RESOURCE: '',
  });
  try {
    const disc = await getJson(`${p2.issuer}/.well-known/openid-configuration`);
    const da = await form(disc.device_authorization_endpoint, { client_id: CLIENT_ID, scope: SCOPE });
    ok(da.status === 200 && da.json.interval === undefined && da.json.expires_in === 2, 'OIDC_DEVICE_INTERVAL=0 omits interval; expires_in 2', da.json);
    await sleep(3000);
    const r = await form(disc.token_endpoint, {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: da.json.device_code, client_id: CLIENT_ID,
    });
    ok(r.status === 400 && r.json.error === 'expired_token', 'expired device code -> expired_token', r);

    await fetch(`${p2.issuer}/__config`, { method: 'POST', body: JSON.stringify({ device_code_ttl: 60, device_interval: 1 }) });
    const d2 = await form(disc.device_authorization_endpoint, { client_id: CLIENT_ID, scope: SCOPE });
    const [b2, res2] = await Promise.all([runBrowser(d2.json.verification_uri_complete), pollDevice(disc, d2.json.device_code, d2.json.interval)]);
    must(b2.code === 0 && res2.tokens, 'device flow on the second provider', { b2, res2 });
    ok(res2.tokens.access_token.split('.').length !== 3, 'no default resource: keyless-cli access token is opaque', res2.tokens.access_token);
    const idp2 = jose.decodeJwt(res2.tokens.id_token);
    ok(idp2.exp - idp2.iat === 7, 'OIDC_ID_TOKEN_TTL=7 honoured', idp2);
  } finally {
    await stopProvider(p2);
  }
}

const guard = setTimeout(() => {
  console.log('not ok - selfcheck timed out after 240 s');
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
}, 240000);

try {
  await main();
} catch (e) {
  if (!(e instanceof Fatal)) {
    failed += 1;
    console.log(`not ok - ${e.stack || e}`);
  }
}
clearTimeout(guard);
for (const c of children) c.kill('SIGKILL');
if (failed) console.log(`# logs kept in ${TMP}`);
else fs.rmSync(TMP, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
