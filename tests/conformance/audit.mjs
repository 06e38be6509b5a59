// Runs the graphql-http server audits against a GraphQL endpoint and prints the results as JSON.
//
//   CROSSDOCK_AUDIT_TOKEN=<jwt> node audit.mjs http://127.0.0.1:8000/graphql
//
// The gateway requires a Bearer token, so every audit request goes through a fetch that adds
// the Authorization header (unless the audit set one itself), and a non-empty
// `x-crossdock-csrf` header: the gateway refuses operations a browser could send cross-site
// without a CORS preflight (a GET with a query, a POST without a JSON content type), and real
// clients send such a header (Apollo's `apollo-require-preflight` works too). The audit's
// POSTs with a wrong or missing content type still get 415: the header lifts only CSRF. Output: one JSON array of
// {id, name, status: "ok" | "notice" | "warn" | "error", reason}; MUST audits fail as
// "error", SHOULD audits as "warn", MAY audits as "notice".
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>  (token in CROSSDOCK_AUDIT_TOKEN)');
  process.exit(2);
}
const token = process.env.CROSSDOCK_AUDIT_TOKEN;

function withAuthorization(input, init = {}) {
  const headers = new Headers(init.headers);
  if (token && !headers.has('authorization')) {
    headers.set('authorization', `Bearer ${token}`);
  }
  if (!headers.has('x-crossdock-csrf')) {
    headers.set('x-crossdock-csrf', '1');
  }
  return fetch(input, { ...init, headers });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: withAuthorization })) {
  try {
    const result = await audit.fn();
    results.push({
      id: result.id,
      name: result.name,
      status: result.status,
      reason: result.status === 'ok' ? null : result.reason,
    });
  } catch (error) {
    // The suite throws only on fatal errors (e.g. the server is unreachable).
    results.push({ id: audit.id, name: audit.name, status: 'error', reason: `fatal: ${error}` });
  }
}
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
