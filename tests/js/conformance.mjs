// Charter through real JavaScript clients, each set up exactly as README "Clients" shows
// (the set-ups are the files in ./setup). One scenario per run:
//   node conformance.mjs <scenario> '<json config>'   config: {url, key, site}
// Prints JSON lines; a scenario that throws exits non-zero with the error on stderr.
import { gql } from "@apollo/client";
import { charterApollo } from "./setup/apollo.mjs";
import { charterSubscriptions } from "./setup/graphql-ws.mjs";
import { charterRelay } from "./setup/relay-environment.mjs";
import { charterUrql } from "./setup/urql.mjs";
import { fetchQuery } from "relay-runtime";

const [scenario, raw] = process.argv.slice(2);
const config = JSON.parse(raw);
const print = (line) => console.log(JSON.stringify(line));
const POLICY = "query Policy($site: String!) { publishedPolicy(site: $site) { site version title } }";

async function post(query, variables) {
  const response = await fetch(config.url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${config.key}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

async function publishPolicy(title) {
  const made = await post(
    `mutation($input: PolicyDraftInput!) { createPolicyDraft(input: $input) { policyVersion { id } userErrors { code } } }`,
    { input: { kind: "PRIVACY", translations: [{ locale: "en", title, body: "Text." }] } },
  );
  const id = made.data.createPolicyDraft.policyVersion.id;
  const published = await post(
    `mutation($id: ID!) { publishPolicyVersion(id: $id) { policyVersion { version } userErrors { code } } }`,
    { id },
  );
  return published.data.publishPolicyVersion;
}

const scenarios = {
  // Persisted queries: the first GET misses and registers, the second is a hash alone.
  async apollo() {
    const sent = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (input, init) => {
      const url = typeof input === "string" ? input : input.url;
      sent.push({ method: init?.method ?? "GET", hashOnly: url.includes("persistedQuery") && !url.includes("query=") });
      return realFetch(input, init);
    };
    for (const round of [1, 2]) {
      const client = charterApollo(config.url, null); // public: no key on a site's page
      const { data } = await client.query({ query: gql(POLICY), variables: { site: config.site } });
      print({ round, data });
    }
    globalThis.fetch = realFetch;
    print({ sent });
  },

  async urql() {
    const client = charterUrql(config.url, config.key);
    const query = "query Mine { viewer { tenant { slug } } breaches(last: 2) { pageInfo { hasPreviousPage startCursor } } }";
    const result = await client.query(query, {}).toPromise();
    print({ data: result.data, error: result.error ? String(result.error) : null });
    const bad = await client.query("query Bad($n: Int) { breaches(first: $n) { pageInfo { hasNextPage } } }", { n: "ten" }).toPromise();
    print({ codes: bad.error?.graphQLErrors.map((e) => e.extensions.code) });
  },

  // graphql-ws: subscribe with the key in connection_init, publish over HTTP, get the event.
  async subscribe() {
    const wsUrl = config.url.replace(/^http/, "ws");
    const client = charterSubscriptions(wsUrl, config.key);
    const events = [];
    const done = new Promise((resolve, reject) => {
      client.subscribe(
        { query: "subscription($site: String!) { policyPublished(site: $site) { site version title } }", variables: { site: config.site } },
        { next: (value) => { events.push(value); resolve(); }, error: reject, complete: resolve },
      );
    });
    let published = null;
    for (let attempt = 0; attempt < 10 && events.length === 0; attempt++) {
      await new Promise((r) => setTimeout(r, 300 * (attempt + 1)));
      published = await publishPolicy(`Published while subscribed ${attempt}`);
    }
    let timer;
    const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("no event")), 10000); });
    await Promise.race([done, late]).finally(() => clearTimeout(timer));
    await client.dispose();
    print({ published, events });
  },

  // A refetch query relay-compiler generated (config.artifact), run by the environment.
  async relay() {
    const environment = charterRelay(config.url, config.key);
    const { default: query } = await import(config.artifact);
    const data = await fetchQuery(environment, query, config.variables).toPromise();
    const record = environment.getStore().getSource().get(config.variables.id);
    print({
      record: { __typename: record.__typename, id: record.id },
      fragments: Object.keys(data.node.__fragments),
    });
  },
};

await scenarios[scenario]();
process.exit(0); // sockets and timers a client keeps for reuse would hold the process open
