// GraphQL-over-HTTP spec compliance audit for a running Charter server.
//
//   node tests/http_audit/audit.mjs http://127.0.0.1:8765/graphql [--verbose]
//
// Prints one JSON line per audit: {"id","name","status","reason"} where status is
// ok / notice / warn / error (graphql-http reports failing MUSTs as "error",
// failing SHOULDs as "warn", failing MAYs as "notice").
// With --verbose (or AUDIT_VERBOSE=1) failing lines also carry the HTTP status,
// content-type and the start of the body the server answered with.
//
// Exit code: 0 when no result is error or warn, 1 when any is, 2 when the audit
// could not run at all (bad arguments, server unreachable, ...).
import { auditServer } from 'graphql-http';

const args = process.argv.slice(2);
const url = args.find((a) => !a.startsWith('--'));
const verbose = args.includes('--verbose') || process.env.AUDIT_VERBOSE === '1';

if (!url) {
  console.error('usage: node audit.mjs <graphql-url> [--verbose]');
  process.exit(2);
}

async function describeResponse(res) {
  if (!res) return undefined;
  let body;
  try {
    body = await res.clone().text();
  } catch (err) {
    body = `<unreadable: ${err}>`;
  }
  return {
    httpStatus: res.status,
    contentType: res.headers.get('content-type'),
    body: body.length > 300 ? `${body.slice(0, 300)}...` : body,
  };
}

let results;
try {
  results = await auditServer({ url, fetchFn: fetch });
} catch (err) {
  console.error(`audit could not run against ${url}: ${err?.stack ?? err}`);
  process.exit(2);
}

let failed = 0;
for (const r of results) {
  const line = { id: r.id, name: r.name, status: r.status, reason: r.reason ?? null };
  if (verbose && r.status !== 'ok') line.response = await describeResponse(r.response);
  console.log(JSON.stringify(line));
  if (r.status === 'error' || r.status === 'warn') failed++;
}

const count = (s) => results.filter((r) => r.status === s).length;
console.error(
  `graphql-http audit: ${results.length} audits, ${count('ok')} ok, ` +
    `${count('notice')} notice, ${count('warn')} warn, ${count('error')} error`,
);
process.exit(failed ? 1 : 0);
