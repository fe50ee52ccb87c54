// Apollo Client 4 with its persisted queries link over GET, as a SaaS customer sets it up
// (tests/test_http_clients.py runs it). Prints one JSON line per step.
//
//   node http_apollo.mjs URL SITE
//
// fetch is node's own, wrapped in the smallest HTTP cache that revalidates (what a
// browser's cache does with `no-cache`): it keeps each GET answer's ETag, sends it back
// as If-None-Match and serves the kept body on 304. The wrapper records every exchange.
import { createHash } from "node:crypto";
import {
  ApolloClient,
  ApolloLink,
  CombinedGraphQLErrors,
  HttpLink,
  InMemoryCache,
  ServerError,
  gql,
} from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const [url, site] = process.argv.slice(2);
const exchanges = [];
const kept = new Map(); // url -> {etag, body, headers}

async function revalidatingFetch(input, init = {}) {
  const method = (init.method || "GET").toUpperCase();
  const headers = new Headers(init.headers);
  const known = method === "GET" ? kept.get(String(input)) : undefined;
  if (known) headers.set("If-None-Match", known.etag);
  const response = await fetch(input, { ...init, headers });
  const seen = new URL(String(input));
  exchanges.push({
    method,
    status: response.status,
    operationName: method === "GET" ? seen.searchParams.get("operationName") : null,
    hashed: method === "GET" ? seen.searchParams.has("extensions") : null,
    hasQuery: method === "GET" ? seen.searchParams.has("query") : null,
    etag: response.headers.get("etag"),
    contentType: response.headers.get("content-type"),
    rateLimit: response.headers.get("ratelimit"),
  });
  if (response.status === 304 && known) {
    return new Response(known.body, { status: 200, headers: known.headers });
  }
  const etag = response.headers.get("etag");
  if (method === "GET" && etag && response.ok) {
    const body = await response.text();
    kept.set(String(input), { etag, body, headers: response.headers });
    return new Response(body, { status: response.status, headers: response.headers });
  }
  return response;
}

const link = ApolloLink.from([
  new PersistedQueryLink({
    sha256: (text) => createHash("sha256").update(text).digest("hex"),
    useGETForHashedQueries: true,
  }),
  new HttpLink({ uri: url, fetch: revalidatingFetch }),
]);
const client = new ApolloClient({ link, cache: new InMemoryCache() });

const POLICY = gql`
  query PublishedPolicy($site: String!) {
    publishedPolicy(site: $site) {
      version
      title
    }
  }
`;

function describe(error) {
  return {
    kind: CombinedGraphQLErrors.is(error)
      ? "CombinedGraphQLErrors"
      : ServerError.is(error)
        ? "ServerError"
        : error?.constructor?.name,
    codes: CombinedGraphQLErrors.is(error)
      ? error.errors.map((e) => e.extensions?.code)
      : [],
    message: String(error?.message),
  };
}

async function read(step) {
  const before = exchanges.length;
  try {
    const result = await client.query({
      query: POLICY,
      variables: { site },
      fetchPolicy: "network-only",
    });
    console.log(JSON.stringify({ step, data: result.data, exchanges: exchanges.slice(before) }));
    return true;
  } catch (error) {
    console.log(
      JSON.stringify({ step, error: describe(error), exchanges: exchanges.slice(before) }),
    );
    return false;
  }
}

await read("register"); // GET hash: not found; POST with the document: registered
await read("hit"); // GET hash: answered
await read("revalidate"); // GET hash with If-None-Match: 304
for (let i = 0; i < 20; i++) {
  if (!(await read(`drain-${i}`))) break; // until the bucket refuses: a 429
}
