// Charter's GraphiQL in Debian's Chromium with every other host blocked: the page loads
// from the server alone, the docs pane lists Query's fields (introspection), a query runs
// with a key typed into the headers editor, and the key is not left in localStorage.
//   node graphiql.mjs <url of /graphql> <secret key> [screenshot.png]
// Prints one JSON line: {fields, foreign, violations, failed, result, authorization, storage}.
import { launch } from "./browser.mjs";

const [url, key, screenshot] = process.argv.slice(2);
const origin = new URL(url).origin;
const { browser, page } = await launch({ context: { viewport: { width: 1280, height: 760 } } });
page.setDefaultTimeout(20000);
const foreign = []; // requests to any other host: blocked, and the test fails on them
const failed = [];
let authorization = null;
await page.route("**/*", (route) => {
  const request = route.request();
  if (new URL(request.url()).origin !== origin && !request.url().startsWith("data:")) {
    foreign.push(request.url());
    return route.abort();
  }
  if (request.method() === "POST") authorization = request.headers()["authorization"] ?? authorization;
  return route.continue();
});
page.on("response", (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
await page.addInitScript(() => {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", (e) =>
    window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
});
try {
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector(".graphiql-query-editor .CodeMirror");
  // The docs pane: Query's fields, from the server's introspection.
  await page.click('button[aria-label="Show Documentation Explorer"]');
  await page.click('.graphiql-doc-explorer a.graphiql-doc-explorer-type-name:text-is("Query")');
  await page.waitForSelector(".graphiql-doc-explorer-field-name");
  const fields = await page.$$eval(".graphiql-doc-explorer-field-name", (els) => els.map((e) => e.textContent));
  // A key in the headers editor, a query run with it.
  await page.click('button:text-is("Headers")');
  await page.evaluate((key) => {
    document.querySelector(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
      .CodeMirror.setValue(JSON.stringify({ Authorization: `Bearer ${key}` }));
    document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror
      .setValue("query Mine { viewer { tenant { slug } } }");
  }, key);
  await page.click(".graphiql-execute-button");
  await page.waitForFunction(() => /slug/.test(document.querySelector(".graphiql-response")?.textContent ?? ""));
  const result = await page.textContent(".graphiql-response .CodeMirror-code");
  await page.waitForTimeout(500); // GraphiQL writes its storage debounced
  const storage = await page.evaluate(() => Object.fromEntries(Object.entries(localStorage)));
  const violations = await page.evaluate(() => window.__violations);
  if (screenshot) await page.screenshot({ path: screenshot });
  console.log(JSON.stringify({ fields, foreign, failed, violations, result, authorization, storage }));
} finally {
  await browser.close();
}
