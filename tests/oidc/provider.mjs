#!/usr/bin/env node
// A real OpenID Provider (npm oidc-provider 9.x) on 127.0.0.1 for keyless's tests.
//
//   node provider.mjs
//
// Prints exactly one JSON line on stdout when ready:
//   {"issuer":"http://127.0.0.1:PORT","stats":"http://127.0.0.1:PORT/__stats"}
// then serves until SIGTERM/SIGINT. Everything else (oidc-provider notices,
// debug lines) goes to stderr. See NOTES.md for every knob and quirk.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

// Signals first, so that even an early SIGTERM/SIGINT exits 0.
let server;
let stopping = false;
function stop(sig) {
  if (stopping) return;
  stopping = true;
  console.error(`provider.mjs: ${sig}, shutting down`);
  if (!server) process.exit(0);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

// oidc-provider prints its NOTICEs with console.info (stdout). stdout is the
// harness's machine-readable channel, so send all console output to stderr.
console.log = console.error;
console.info = console.error;

const { default: Provider, errors: oidcErrors } = await import('oidc-provider');
const jose = await import('jose');

// ---------------------------------------------------------------- settings
function intEnv(name, dflt, { min = 0 } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) {
    console.error(`provider.mjs: ${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return v;
}

const HOST = '127.0.0.1';
const PORT = intEnv('OIDC_PORT', 0);

// Settings that tests may also change at run time: POST /__config with a JSON
// object of some of these keys (GET /__config shows them). They apply to what
// is issued/answered from then on.
const settings = {
  id_token_ttl: intEnv('OIDC_ID_TOKEN_TTL', 300, { min: 1 }),
  access_token_ttl: intEnv('OIDC_ACCESS_TOKEN_TTL', 300, { min: 1 }),
  refresh_token_ttl: intEnv('OIDC_REFRESH_TOKEN_TTL', 86400, { min: 1 }),
  device_code_ttl: intEnv('OIDC_DEVICE_CODE_TTL', 600, { min: 1 }),
  // `interval` added to the device authorization response (oidc-provider
  // itself sends none, which means 5 s per RFC 8628). 0 = send none.
  device_interval: intEnv('OIDC_DEVICE_INTERVAL', 1),
  // slow_down emulation (oidc-provider itself never sends slow_down):
  //   enforce: a pending poll that comes sooner than the current interval
  //     (minus 250 ms of slack) for that device_code gets slow_down, and that
  //     device_code's interval grows by 5 s (RFC 8628 §3.5).
  //   off: never.
  device_slow_down: process.env.OIDC_DEVICE_SLOW_DOWN || 'enforce',
  // Answer the first N pending polls of every device_code with slow_down,
  // whatever their timing (each also adds 5 s to the interval enforced).
  device_force_slow_down: intEnv('OIDC_DEVICE_FORCE_SLOW_DOWN', 0),
  // What a refresh_token grant returns as id_token:
  //   new  (default) a freshly signed ID token (new iat/exp/jti)
  //   none           no id_token member at all (allowed by OIDC Core §12.2)
  //   same           the very ID token first issued for this grant (by the
  //                  code/device exchange), byte for byte
  refresh_id_token: process.env.OIDC_REFRESH_ID_TOKEN || 'new',
  // Add a random `jti` to every ID token (oidc-provider adds none, so two ID
  // tokens issued in the same second for the same grant are identical).
  id_token_jti: (process.env.OIDC_ID_TOKEN_JTI ?? '1') !== '0',
  // Fault injection into every ID token the token endpoint returns (code,
  // device and refresh grants), for keyless's refusal tests. The token is
  // re-signed after the change (RS256, same kid) unless said otherwise:
  //   none (default) | expired (iat -2h, exp -1h) | future_iat (iat +1h)
  //   | bad_signature (signed by another key, same kid) | wrong_nonce
  //   | wrong_aud | wrong_iss | alg_none (unsigned, alg "none")
  id_token_fault: process.env.OIDC_ID_TOKEN_FAULT || 'none',
};
const SETTING_CHECKS = {
  id_token_ttl: (v) => Number.isInteger(v) && v >= 1,
  access_token_ttl: (v) => Number.isInteger(v) && v >= 1,
  refresh_token_ttl: (v) => Number.isInteger(v) && v >= 1,
  device_code_ttl: (v) => Number.isInteger(v) && v >= 1,
  device_interval: (v) => Number.isInteger(v) && v >= 0,
  device_slow_down: (v) => ['enforce', 'off'].includes(v),
  device_force_slow_down: (v) => Number.isInteger(v) && v >= 0,
  refresh_id_token: (v) => ['new', 'none', 'same'].includes(v),
  id_token_jti: (v) => typeof v === 'boolean',
  id_token_fault: (v) => ['none', 'expired', 'future_iat', 'bad_signature', 'wrong_nonce', 'wrong_aud', 'wrong_iss', 'alg_none'].includes(v),
};
for (const [k, check] of Object.entries(SETTING_CHECKS)) {
  if (!check(settings[k])) {
    console.error(`provider.mjs: bad setting ${k}=${JSON.stringify(settings[k])}`);
    process.exit(2);
  }
}
const CI_SECRET = process.env.OIDC_CI_SECRET ?? 'ci-secret';
const RESOURCES = (process.env.OIDC_RESOURCES ?? 'https://api.anthropic.com')
  .split(',').map((s) => s.trim()).filter(Boolean);
const RESOURCE_SCOPE = process.env.OIDC_RESOURCE_SCOPE ?? 'api';
// Resource that keyless-cli gets a JWT access token for when it asks for none
// (Okta-custom-authorization-server style). Empty string = none: keyless-cli
// then gets an opaque access token unless it sends `resource` itself.
const NATIVE_DEFAULT_RESOURCE = process.env.OIDC_NATIVE_DEFAULT_RESOURCE ?? RESOURCES[0] ?? '';
const CI_DEFAULT_RESOURCE = process.env.OIDC_CI_DEFAULT_RESOURCE ?? RESOURCES[0] ?? '';
const EMAIL_DOMAIN = process.env.OIDC_EMAIL_DOMAIN || 'example.test';
const KID = process.env.OIDC_KID || `keyless-test-${crypto.randomBytes(4).toString('hex')}`;

for (const r of [...RESOURCES, NATIVE_DEFAULT_RESOURCE, CI_DEFAULT_RESOURCE].filter(Boolean)) {
  if (!URL.canParse(r) || r.includes('#')) {
    console.error(`provider.mjs: bad resource indicator ${JSON.stringify(r)}`);
    process.exit(2);
  }
}
for (const r of [NATIVE_DEFAULT_RESOURCE, CI_DEFAULT_RESOURCE].filter(Boolean)) {
  if (!RESOURCES.includes(r)) {
    console.error(`provider.mjs: default resource ${r} is not in OIDC_RESOURCES`);
    process.exit(2);
  }
}

const NATIVE_CLIENT_ID = 'keyless-cli';
const CI_CLIENT_ID = 'keyless-ci';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// ---------------------------------------------------------------- stats
function freshStats() {
  return {
    grants: {
      authorization_code: 0, refresh_token: 0, device_code: 0, client_credentials: 0,
    },
    // failed refresh_token grants whose token was consumed (rotated away) or
    // revoked/unknown: invalid_grant at the token endpoint.
    refresh_replays: 0,
    // successful (HTTP 200) calls to the revocation endpoint
    revocations: 0,
    // --- extras, for finer assertions ---
    // revocation calls that actually found and destroyed a token
    revoked_tokens: 0,
    // refresh_token invalid_grant by internal reason
    refresh_failures: { already_used: 0, not_found: 0, expired: 0, other: 0 },
    // token endpoint errors: { "<grant>": { "<error>": n } }
    grant_errors: {},
    device_authorizations: 0,
    device_polls: {
      authorization_pending: 0, slow_down: 0, access_denied: 0, expired_token: 0, success: 0, other: 0,
    },
    authorization_errors: {},
    // grant ids revoked (by logout revocation or by refresh replay detection)
    grants_revoked: 0,
  };
}
let stats = freshStats();

const shortGrant = (gt) => (gt === DEVICE_GRANT ? 'device_code' : gt || 'unknown');
const bump = (obj, key) => { obj[key] = (obj[key] || 0) + 1; };

// ---------------------------------------------------------------- keys
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };
// For id_token_fault=bad_signature: a key that is not in the JWKS.
let rogueKey;

async function applyIdTokenFault(idToken) {
  const fault = settings.id_token_fault;
  if (fault === 'none') return idToken;
  const claims = jose.decodeJwt(idToken);
  const header = jose.decodeProtectedHeader(idToken);
  const now = Math.floor(Date.now() / 1000);
  const life = (claims.exp ?? now + 300) - (claims.iat ?? now);
  switch (fault) {
    case 'expired': claims.iat = now - 7200; claims.exp = now - 3600; break;
    case 'future_iat': claims.iat = now + 3600; claims.exp = now + 3600 + life; break;
    case 'wrong_nonce': claims.nonce = `wrong-${crypto.randomBytes(8).toString('hex')}`; break;
    case 'wrong_aud': claims.aud = 'not-keyless-cli'; break;
    case 'wrong_iss': claims.iss = 'http://127.0.0.1:1'; break;
    default: break;
  }
  if (fault === 'alg_none') {
    const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
  }
  let key = privateKey;
  if (fault === 'bad_signature') {
    rogueKey ||= crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    key = rogueKey;
  }
  return new jose.SignJWT(claims).setProtectedHeader({ ...header, alg: 'RS256', kid: KID }).sign(key);
}

// ---------------------------------------------------------------- accounts
// Any login name becomes the subject.
async function findAccount(_ctx, sub) {
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        email: `${sub}@${EMAIL_DOMAIN}`,
        email_verified: true,
        name: sub,
        preferred_username: sub,
      };
    },
  };
}

// ---------------------------------------------------------------- server
// Listen first (port 0 = ephemeral), because the issuer must name the port.
let handler = (_req, res) => { res.statusCode = 503; res.end(); };
server = http.createServer((req, res) => handler(req, res));
server.keepAliveTimeout = 5000;
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(PORT, HOST, resolve);
});
const { port } = server.address();
const ISSUER = `http://${HOST}:${port}`;

const configuration = {
  clients: [
    {
      client_id: NATIVE_CLIENT_ID,
      client_name: 'keyless CLI (test)',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
      response_types: ['code'],
      // Native client + http loopback host => any port matches (RFC 8252 §7.3),
      // built into oidc-provider's Client#redirectUriAllowed. Path must match.
      redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
      id_token_signed_response_alg: 'RS256',
    },
    {
      client_id: CI_CLIENT_ID,
      client_name: 'keyless CI (test)',
      client_secret: CI_SECRET,
      // oidc-provider accepts client_secret_post as well for a client
      // registered with client_secret_basic (and vice versa).
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  jwks: { keys: [signingJwk] },
  cookies: {
    keys: [crypto.randomBytes(32).toString('base64url')],
    // plain http: oidc-provider only marks cookies Secure when ctx.secure.
    long: { httpOnly: true, sameSite: 'lax' },
    short: { httpOnly: true, sameSite: 'lax' },
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  // Put the scope-granted claims (email...) into the ID token itself.
  conformIdTokenClaims: false,
  findAccount,
  pkce: {
    // S256 is the only method oidc-provider 9 supports; require it for every client
    // that uses the authorization endpoint.
    required: () => true,
  },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // used when the request carries no `resource`
      async defaultResource(_ctx, client, oneOf) {
        if (oneOf) return oneOf;
        if (client?.clientId === NATIVE_CLIENT_ID && NATIVE_DEFAULT_RESOURCE) return NATIVE_DEFAULT_RESOURCE;
        if (client?.clientId === CI_CLIENT_ID && CI_DEFAULT_RESOURCE) return CI_DEFAULT_RESOURCE;
        return undefined;
      },
      // At the token endpoint (code/refresh/device) with no `resource` param:
      // use the resource granted at authorization, so keyless-cli gets a JWT
      // access token for it without having to send `resource` again.
      async useGrantedResource(ctx) {
        return ctx.oidc.client?.clientId === NATIVE_CLIENT_ID && !!NATIVE_DEFAULT_RESOURCE;
      },
      async getResourceServerInfo(_ctx, resourceIndicator, client) {
        if (!RESOURCES.includes(resourceIndicator)) throw new oidcErrors.InvalidTarget();
        if (![NATIVE_CLIENT_ID, CI_CLIENT_ID].includes(client.clientId)) throw new oidcErrors.InvalidTarget();
        return {
          scope: RESOURCE_SCOPE,
          audience: resourceIndicator,
          accessTokenTTL: settings.access_token_ttl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // Put sub's email into JWT access tokens minted for a user.
  async extraTokenClaims(_ctx, token) {
    if (token.accountId) return { email: `${token.accountId}@${EMAIL_DOMAIN}` };
    return undefined;
  },
  // keyless-cli always gets a refresh token (oidc-provider otherwise needs
  // offline_access, which it strips unless prompt=consent is in the request).
  async issueRefreshToken(_ctx, client, code) {
    if (client.clientId === NATIVE_CLIENT_ID) return true;
    return client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access');
  },
  // Refresh tokens do not die with the (throw-away) browser session.
  async expiresWithSession() { return false; },
  // Rotate on every use; a replayed (consumed) refresh token fails with
  // invalid_grant AND revokes the whole grant (all its tokens).
  rotateRefreshToken: true,
  ttl: {
    AccessToken: () => settings.access_token_ttl,
    AuthorizationCode: 60,
    ClientCredentials: () => settings.access_token_ttl,
    DeviceCode: () => settings.device_code_ttl,
    Grant: () => Math.max(settings.refresh_token_ttl, 86400),
    IdToken: () => settings.id_token_ttl,
    Interaction: 3600,
    RefreshToken: () => settings.refresh_token_ttl,
    Session: () => Math.max(settings.refresh_token_ttl, 86400),
    BackchannelAuthenticationRequest: 600,
    PreAuthorizedCode: 600,
  },
  // Default 15 s; keep it for iat/exp checks on incoming JWTs.
  clockTolerance: 15,
  renderError(ctx, out) {
    ctx.type = 'html';
    const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>oops! something went wrong</title></head>
<body><h1>oops! something went wrong</h1>${Object.entries(out).map(([k, v]) => `<pre><strong>${esc(k)}</strong>: ${esc(v)}</pre>`).join('')}</body></html>`;
  },
};

const provider = new Provider(ISSUER, configuration);

// Random jti in ID tokens (see settings.id_token_jti).
{
  const { IdToken } = provider;
  const payload = IdToken.prototype.payload;
  IdToken.prototype.payload = async function payloadWithJti(...args) {
    const p = await payload.apply(this, args);
    if (settings.id_token_jti && p.jti === undefined) p.jti = crypto.randomUUID();
    return p;
  };
}

// ---------------------------------------------------------------- events -> stats
provider.on('grant.success', (ctx) => {
  bump(stats.grants, shortGrant(ctx.oidc.params?.grant_type));
});
provider.on('grant.error', (ctx, err) => {
  const gt = shortGrant(ctx.oidc?.params?.grant_type);
  stats.grant_errors[gt] ||= {};
  bump(stats.grant_errors[gt], err.error || 'unknown');
  if (gt === 'refresh_token' && err.error === 'invalid_grant') {
    const detail = String(err.error_detail || '');
    if (/already used/.test(detail)) stats.refresh_failures.already_used += 1;
    else if (/not found|grant not found/.test(detail)) stats.refresh_failures.not_found += 1;
    else if (/expired/.test(detail)) stats.refresh_failures.expired += 1;
    else stats.refresh_failures.other += 1;
    if (/already used|not found/.test(detail)) stats.refresh_replays += 1;
  }
});
provider.on('grant.revoked', () => { stats.grants_revoked += 1; });
provider.on('device_authorization.success', () => { stats.device_authorizations += 1; });
provider.on('authorization.error', (_ctx, err) => { bump(stats.authorization_errors, err.error || 'unknown'); });
provider.on('server_error', (_ctx, err) => { console.error('provider.mjs: server_error', err); });

// ---------------------------------------------------------------- middleware
// device_code polling: interval + slow_down emulation, poll counters.
const devicePolls = new Map(); // device_code -> { last, interval, forced }
const firstIdToken = new Map(); // grant id -> first ID token issued for it

provider.use(async (ctx, next) => {
  await next();
  const route = ctx.oidc?.route;

  if (route === 'device_authorization' && ctx.status === 200 && ctx.body && settings.device_interval > 0) {
    ctx.body = { ...ctx.body, interval: settings.device_interval };
  }

  // id_token of refresh responses: new | none | same; then fault injection
  if (route === 'token' && ctx.status === 200 && ctx.body?.id_token) {
    const gt = ctx.oidc.params?.grant_type;
    const grantId = ctx.oidc.entities?.Grant?.jti;
    if (gt === 'refresh_token') {
      if (settings.refresh_id_token === 'none') {
        const { id_token: _drop, ...rest } = ctx.body;
        ctx.body = rest;
      } else if (settings.refresh_id_token === 'same' && grantId && firstIdToken.has(grantId)) {
        ctx.body = { ...ctx.body, id_token: firstIdToken.get(grantId) };
      }
    } else if (grantId && !firstIdToken.has(grantId)) {
      firstIdToken.set(grantId, ctx.body.id_token);
      if (firstIdToken.size > 10000) firstIdToken.clear();
    }
    if (ctx.body.id_token && settings.id_token_fault !== 'none') {
      ctx.body = { ...ctx.body, id_token: await applyIdTokenFault(ctx.body.id_token) };
    }
  }

  if (route === 'revocation' && ctx.status === 200) {
    stats.revocations += 1;
    const e = ctx.oidc.entities || {};
    if (e.RefreshToken || e.AccessToken || e.ClientCredentials) stats.revoked_tokens += 1;
  }

  if (route === 'token' && ctx.oidc.params?.grant_type === DEVICE_GRANT) {
    const dc = String(ctx.oidc.params.device_code || '');
    const err = ctx.status >= 400 ? ctx.body?.error : undefined;
    if (err === 'authorization_pending' && dc) {
      const now = Date.now();
      const st = devicePolls.get(dc) || {
        last: undefined, interval: (settings.device_interval || 5) * 1000, forced: 0,
      };
      let slow = false;
      if (st.forced < settings.device_force_slow_down) {
        st.forced += 1;
        slow = true;
      } else if (settings.device_slow_down === 'enforce' && st.last !== undefined && now - st.last < st.interval - 250) {
        slow = true;
      }
      st.last = now;
      if (slow) st.interval += 5000;
      devicePolls.set(dc, st);
      if (devicePolls.size > 10000) devicePolls.clear();
      if (slow) {
        ctx.status = 400;
        ctx.body = {
          error: 'slow_down',
          error_description: `you are polling too quickly; poll at most every ${st.interval / 1000} s`,
        };
        // the grant.error event already counted authorization_pending; fix it up
        const g = stats.grant_errors.device_code;
        if (g?.authorization_pending) g.authorization_pending -= 1;
        stats.grant_errors.device_code ||= {};
        bump(stats.grant_errors.device_code, 'slow_down');
        stats.device_polls.slow_down += 1;
        return;
      }
    }
    if (ctx.status === 200) stats.device_polls.success += 1;
    else if (err && err in stats.device_polls) stats.device_polls[err] += 1;
    else stats.device_polls.other += 1;
  }
});

const providerCallback = provider.callback();

function sendJson(res, status, obj) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(obj));
}

async function configEndpoint(req, res) {
  if (req.method === 'GET') { sendJson(res, 200, settings); return; }
  if (req.method !== 'POST') { sendJson(res, 405, { error: 'GET or POST' }); return; }
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 65536) { sendJson(res, 413, { error: 'too large' }); return; }
  }
  let patch;
  try { patch = JSON.parse(body || '{}'); } catch { sendJson(res, 400, { error: 'body must be JSON' }); return; }
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) { sendJson(res, 400, { error: 'body must be a JSON object' }); return; }
  for (const [k, v] of Object.entries(patch)) {
    if (!(k in SETTING_CHECKS)) { sendJson(res, 400, { error: `unknown setting ${k}` }); return; }
    if (!SETTING_CHECKS[k](v)) { sendJson(res, 400, { error: `bad value for ${k}: ${JSON.stringify(v)}` }); return; }
  }
  Object.assign(settings, patch);
  console.error(`provider.mjs: settings now ${JSON.stringify(settings)}`);
  sendJson(res, 200, settings);
}

handler = (req, res) => {
  const path = (req.url || '').split('?')[0];
  if (path === '/__config') {
    configEndpoint(req, res).catch((e) => { console.error(e); sendJson(res, 500, { error: String(e) }); });
    return;
  }
  if (path === '/__stats' || path === '/__stats/reset') {
    if (path === '/__stats/reset') {
      if (req.method !== 'POST') { res.statusCode = 405; res.end(); return; }
      stats = freshStats();
    }
    const body = JSON.stringify(stats);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(body);
    return;
  }
  providerCallback(req, res);
};

// ---------------------------------------------------------------- lifecycle
// Exit when the process that started us goes away (we get re-parented), so a
// crashed test run leaves no provider behind. OIDC_EXIT_WITH_PARENT=0 keeps
// running (e.g. `nohup node provider.mjs &` by hand).
if (process.env.OIDC_EXIT_WITH_PARENT !== '0') {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop('parent process gone');
  }, 1000).unref();
}

process.stdout.write(`${JSON.stringify({ issuer: ISSUER, stats: `${ISSUER}/__stats` })}\n`);
console.error(`provider.mjs: ready at ${ISSUER} (kid ${KID}) ${JSON.stringify(settings)}`);
