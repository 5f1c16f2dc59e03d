// A real OpenID Provider for the test suite: panva's certified oidc-provider on 127.0.0.1.
//
//   node tests/oidc/provider.mjs <port>
//
// Prints "ready <issuer>" on stdout when it listens. The static client registrations, the test
// accounts and a minimal, non-interactive-friendly login page are below. Test-only extras (never in
// a real provider): POST /__test__/clock {"offset": seconds} shifts the provider's clock, so a test can
// be handed a genuinely expired ID token; redirect URIs on 127.0.0.1/localhost are accepted on any
// port, so the browser tests' live server (on a random port) is a registered client too.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.argv[2] || process.env.PORT);
if (!port) {
  console.error('usage: node tests/oidc/provider.mjs <port>');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

// The provider's clock (test control): every token and expiry check reads Date.now.
const realNow = Date.now.bind(Date);
let clockOffsetMs = 0;
Date.now = () => realNow() + clockOffsetMs;

const CLIENT_SECRET = 'testhemlighet-som-bara-finns-i-testerna';

// Test accounts: sub, name, e-mail and an HSA-id-like claim (never real people or real HSA-ids).
const ACCOUNTS = {
  'anna-sub-1': {
    name: 'Anna Andersson', given_name: 'Anna', family_name: 'Andersson',
    email: 'anna.andersson@example.se', email_verified: true, employeeHsaId: 'SE0000000000-TEST1',
  },
  'bertil-sub-2': {
    given_name: 'Bertil', family_name: 'Berg',
    email: 'Bertil.Berg@example.se', email_verified: true, employeeHsaId: 'SE0000000000-TEST2',
  },
  'cecilia-sub-3': {
    name: 'Cecilia Ceder', email: 'cecilia.ceder@example.se', email_verified: false,
    employeeHsaId: 'SE0000000000-TEST3',
  },
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', use: 'sig', alg: 'RS256' };

const LOOPBACK = new Set(['127.0.0.1', 'localhost']);
const PATHS = { redirect: '/logga-in/oidc/svar', postLogout: '/logga-in' };

function client(id) {
  return {
    client_id: id,
    client_secret: CLIENT_SECRET,
    redirect_uris: [`http://localhost${PATHS.redirect}`],
    post_logout_redirect_uris: [`http://localhost${PATHS.postLogout}`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
}

const configuration = {
  clients: [client('formservice'), client('annan-tjanst')],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { methods: ['S256'], required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name'],
    email: ['email', 'email_verified'],
    hsa: ['employeeHsaId'],
  },
  scopes: ['openid', 'profile', 'email', 'hsa'],
  async findAccount(ctx, sub) {
    const claims = ACCOUNTS[sub];
    if (!claims) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...claims }) };
  },
  // A first-party client: every requested scope is granted without a consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    const grant = grantId
      ? await ctx.oidc.provider.Grant.find(grantId)
      : new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Logga ut', `<h1>Vill du logga ut från testinloggningen?</h1>${form}
          <button type="submit" form="op.logoutForm" name="logout" value="yes">Ja, logga ut</button>
          <button type="submit" form="op.logoutForm">Nej</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Utloggad', '<h1>Du är utloggad från testinloggningen.</h1>');
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Fel', `<h1>Fel</h1><pre>${escape(JSON.stringify(out))}</pre>`);
  },
  ttl: {
    AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600,
  },
};

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>${title}</title></head>`
    + `<body><main>${body}</main></body></html>`;
}

const provider = new Provider(issuer, configuration);
provider.Client.prototype.redirectUriAllowed = function allowed(value) {
  return loopbackMatch(value, PATHS.redirect);
};
provider.Client.prototype.postLogoutRedirectUriAllowed = function allowed(value) {
  return loopbackMatch(value, PATHS.postLogout);
};

function loopbackMatch(value, path) {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' && LOOPBACK.has(url.hostname) && url.pathname === path && !url.search;
  } catch {
    return false;
  }
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString();
  if ((req.headers['content-type'] || '').startsWith('application/json')) return JSON.parse(text || '{}');
  return Object.fromEntries(new URLSearchParams(text));
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'Content-Type': type });
  res.end(body);
}

// The login page: pick a test account. A test posts `account` straight to /interaction/<uid>/login.
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'wrong interaction');
  if (req.method === 'GET' && !action) {
    const options = Object.entries(ACCOUNTS)
      .map(([sub, c]) => `<option value="${sub}">${escape(c.name || `${c.given_name} ${c.family_name}`)}</option>`)
      .join('');
    return send(res, 200, page('Testinloggning', `<h1>Testinloggning</h1>
      <form method="post" action="/interaction/${uid}/login">
        <label for="account">Testkonto</label> <select id="account" name="account">${options}</select>
        <button type="submit">Logga in hos testinloggningen</button>
      </form>`));
  }
  if (req.method === 'POST' && action === 'login') {
    const { account } = await readForm(req);
    if (!ACCOUNTS[account]) return send(res, 400, 'unknown test account');
    return provider.interactionFinished(req, res, { login: { accountId: account } },
      { mergeWithLastSubmission: false });
  }
  if (req.method === 'POST' && action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }
  return send(res, 404, 'not found');
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    const match = url.pathname.match(/^\/interaction\/([\w-]+)(?:\/(login|abort))?$/);
    if (match) return await interaction(req, res, match[1], match[2]);
    if (url.pathname === '/__test__/clock' && req.method === 'POST') {
      clockOffsetMs = Number((await readForm(req)).offset || 0) * 1000;
      return send(res, 200, JSON.stringify({ offset: clockOffsetMs / 1000 }), 'application/json');
    }
    return callback(req, res);
  } catch (err) {
    console.error(err);
    if (!res.headersSent) send(res, 500, 'test provider error');
    return undefined;
  }
});
server.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
