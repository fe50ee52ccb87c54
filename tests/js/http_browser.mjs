// A page on a tenant's domain calls Charter with fetch, as a site's own script does
// (tests/test_http_clients.py runs it): a JSON POST that needs a preflight, then GETs
// until the bucket refuses. Prints one JSON line: what JavaScript could read.
//
//   node http_browser.mjs '{"hostRules", "page", "graphql", "site"}'
import { launch } from "./browser.mjs";

const config = JSON.parse(process.argv[2]);
const { browser, page } = await launch({ hostRules: config.hostRules });
try {
  await page.goto(config.page);
  const seen = await page.evaluate(async ({ graphql, site }) => {
    const query = "query Read($site: String!) { publishedPolicy(site: $site) { version } }";
    const readable = async (response) => {
      const body = await response.json();
      return {
        status: response.status,
        data: body.data ?? null,
        code: body.errors?.[0]?.extensions?.code ?? null,
        etag: response.headers.get("ETag"),
        rateLimit: response.headers.get("RateLimit"),
        rateLimitPolicy: response.headers.get("RateLimit-Policy"),
        retryAfter: response.headers.get("Retry-After"),
      };
    };
    const post = await fetch(graphql, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      },
      body: JSON.stringify({ query, variables: { site }, operationName: "Read" }),
    });
    const preflighted = await readable(post);
    const params = new URLSearchParams({
      query,
      variables: JSON.stringify({ site }),
      operationName: "Read",
    });
    const answers = [];
    for (let i = 0; i < 12; i++) {
      const answer = await readable(await fetch(`${graphql}?${params}`, { cache: "no-store" }));
      answers.push(answer);
      if (answer.status === 429) break;
    }
    return { preflighted, answers };
  }, config);
  // A publishable key: honoured from its tenant's page, refused elsewhere (its preflight
  // fails there, so the page sees nothing); anonymous reads work from anywhere.
  const keyed = async ({ graphql, site, key }) => {
    const query = "query Read($site: String!) { publishedPolicy(site: $site) { version } }";
    const body = JSON.stringify({ query, variables: { site }, operationName: "Read" });
    const attempt = async (headers) => {
      try {
        const response = await fetch(graphql, { method: "POST", headers, body });
        const json = await response.json();
        return { status: response.status, code: json.errors?.[0]?.extensions?.code ?? null };
      } catch (error) {
        return { failed: String(error) };
      }
    };
    return {
      withKey: await attempt({ "Content-Type": "application/json", Authorization: `Bearer ${key}` }),
      anonymous: await attempt({ "Content-Type": "application/json" }),
    };
  };
  seen.ownSite = await page.evaluate(keyed, { ...config, site: config.otherSite });
  await page.goto(config.stranger);
  seen.stranger = await page.evaluate(keyed, { ...config, site: config.otherSite });
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
