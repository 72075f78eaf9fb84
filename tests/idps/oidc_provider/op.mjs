// A real OpenID Provider for the SSO tests: panva's oidc-provider on 127.0.0.1.
//
//   node op.mjs CONFIG.json
//
// CONFIG holds the clients (ids, secrets, redirect URIs, auth method), the users
// and their claims, and the signing keys (a private JWK set, so a test can also
// sign tokens the provider would never issue). The users are read from CONFIG again
// at each sign-in, so a test can change what the provider asserts. The server listens on a free port
// first, then builds the provider with that port in its issuer, and prints
// "READY <issuer>" on stdout once it answers.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const server = createServer();

server.listen(config.port || 0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: config.jwks,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    // Scope claims go into the ID token too (groups there, not only at userinfo),
    // unless the config asks for the strict behaviour.
    conformIdTokenClaims: Boolean(config.conformIdTokenClaims),
    features: { devInteractions: { enabled: true } }, // login + consent pages, any password
    pkce: { required: () => true },
    async findAccount(ctx, id) {
      const claims = JSON.parse(readFileSync(process.argv[2], 'utf8')).users[id];
      return claims && { accountId: id, async claims() { return { sub: id, ...claims }; } };
    },
    cookies: { keys: ['scimgate-test-cookie-key'] },
  });
  provider.on('server_error', (ctx, err) => console.error(err));
  server.on('request', provider.callback());
  console.log(`READY ${issuer}`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
