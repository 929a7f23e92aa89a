// An OpenID Connect provider standing in for Microsoft Entra ID in the browser tests:
// panva's oidc-provider (the certified Node.js implementation), with its development sign-in
// pages. Its ID tokens carry Entra's claims: tid (the tenant), groups and amr.
//
//   node oidc_provider.mjs <port>
// Environment: OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI, and OIDC_ACCOUNTS, a
// JSON object of login name -> claims, e.g. {"ada": {"email": "ada@contoso.test",
// "tid": "...", "groups": ["..."], "amr": ["pwd", "mfa"]}}. The development sign-in page takes
// a login name and any password. Prints "listening" once it answers.
import { pathToFileURL } from "node:url";

// The project's node_modules, else each NODE_PATH entry (import() itself ignores NODE_PATH).
async function loadProvider() {
  try {
    return (await import("oidc-provider")).default;
  } catch (error) {
    for (const dir of (process.env.NODE_PATH || "").split(":").filter(Boolean)) {
      try {
        const entry = pathToFileURL(`${dir}/oidc-provider/lib/index.js`).href;
        return (await import(entry)).default;
      } catch {
        // the next entry
      }
    }
    throw error;
  }
}

const Provider = await loadProvider();

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || "{}");

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID,
      client_secret: process.env.OIDC_CLIENT_SECRET,
      redirect_uris: [process.env.OIDC_REDIRECT_URI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    },
  ],
  claims: {
    openid: ["sub", "tid", "groups", "amr"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name", "preferred_username"],
  },
  // Every claim in the ID token, as Entra puts them there.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    if (!Object.hasOwn(accounts, id)) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...accounts[id] };
      },
    };
  },
  cookies: { keys: ["test-only-cookie-key"] },
});
provider.proxy = false;

// The development sign-in page finishes a login with the account's ID only; a real directory
// says how the person authenticated (the session's amr, which the ID token carries).
const finish = provider.interactionFinished.bind(provider);
provider.interactionFinished = async (req, res, result, options) => {
  const amr = result?.login && accounts[result.login.accountId]?.amr;
  if (amr) result.login.amr = amr;
  return finish(req, res, result, options);
};

const server = provider.listen(port, "127.0.0.1", () => {
  console.log("listening");
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
