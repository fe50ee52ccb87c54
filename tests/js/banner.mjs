// The consent banner on a tenant's own page, in Debian's Chromium: one browser, one
// context per scenario, each printing one JSON line of what it saw. The Python side
// (tests/test_banner_browser.py) checks the ledger through GraphQL.
//   node banner.mjs '<json config>'
import { readFileSync, mkdirSync } from "node:fs";
import { launch } from "./browser.mjs";

const config = JSON.parse(process.argv[2]);
const AXE = readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
const { browser } = await launch({ hostRules: config.hostRules });

// Before any page script: note CSP violations and the banner's change events.
function watch() {
  window.__csp = [];
  window.__events = [];
  document.addEventListener("securitypolicyviolation", (e) =>
    window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  window.addEventListener("charter:consent", (e) => window.__events.push(e.detail));
}

async function context(options = {}) {
  const made = await browser.newContext({ viewport: { width: 1024, height: 720 }, ...options });
  made.setDefaultTimeout(15000);
  await made.addInitScript(watch);
  return made;
}

async function record(ctx) {
  const cookie = (await ctx.cookies()).find((c) => c.name === "charter_consent");
  return cookie ? JSON.parse(decodeURIComponent(cookie.value)) : null;
}

async function recorded(ctx, test = () => true) {
  for (let i = 0; i < 100; i++) {
    const found = await record(ctx);
    if (found && found.id && !found.e && test(found)) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no receipt in the first-party record: ${JSON.stringify(await record(ctx))}`);
}

async function ready(page) {
  await page.waitForFunction(() => window.Charter && window.Charter.consent);
  await page.evaluate(() => window.Charter.consent.ready);
}

async function bannerShown(page) {
  await ready(page);
  return page.evaluate(() => {
    const host = document.querySelector("[data-charter-consent]");
    const bar = host && host.shadowRoot.querySelector(".bar");
    return !!bar && !bar.hidden && !host.hidden && bar.getBoundingClientRect().height > 0;
  });
}

async function waitBanner(page) {
  for (let i = 0; i < 50; i++) {
    if (await bannerShown(page)) return true;
    await page.waitForTimeout(100);
  }
  return false;
}

// The focused element, through shadow roots: its data-action, or tag#id.
function focused(page) {
  return page.evaluate(() => {
    let node = document.activeElement;
    while (node && node.shadowRoot && node.shadowRoot.activeElement) node = node.shadowRoot.activeElement;
    if (!node) return null;
    const inDialog = !!node.closest && !!node.closest("dialog");
    return { what: node.getAttribute("data-action") || `${node.tagName.toLowerCase()}#${node.id}`, inDialog };
  });
}

function dialogOpen(page) {
  return page.evaluate(() =>
    document.querySelector("[data-charter-consent]").shadowRoot.querySelector("dialog").open);
}

async function axe(page) {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.html.slice(0, 160)) }));
  });
}

async function page_state(page) {
  return page.evaluate(() => ({
    analytics: window.analyticsRan || 0,
    external: !!window.externalAnalyticsRan,
    ads: !!window.adsRan,
    get: {
      analytics: window.Charter.consent.get("analytics.reporting"),
      ads: window.Charter.consent.get("marketing.advertising.third_party.targeted"),
      analyticsFamily: window.Charter.consent.get("analytics"),
    },
    events: window.__events.length,
    csp: window.__csp,
  }));
}

async function shot(page, name) {
  if (!config.screenshots) return;
  mkdirSync(config.screenshots, { recursive: true });
  await page.screenshot({ path: `${config.screenshots}/${name}.png` });
}

async function graphql(document, variables, token) {
  const response = await fetch(`${config.charterDirect}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: document, variables }),
  });
  return response.json();
}

async function publish(material) {
  const draft = await graphql(
    `mutation($input: PolicyDraftInput!) { createPolicyDraft(input: $input) { policyVersion { id } } }`,
    { input: { kind: "PRIVACY", material, translations: config.translations } },
    config.owner,
  );
  const id = draft.data.createPolicyDraft.policyVersion.id;
  const done = await graphql(
    `mutation($id: ID!) { publishPolicyVersion(id: $id) { policyVersion { version } } }`, { id }, config.owner);
  return done.data.publishPolicyVersion.policyVersion.version;
}

const scenarios = {
  async reject() {
    const ctx = await context();
    const page = await ctx.newPage();
    await page.goto(config.sites.bazaar);
    const shown = await waitBanner(page);
    const buttons = await page.evaluate(() => {
      const root = document.querySelector("[data-charter-consent]").shadowRoot;
      return [...root.querySelectorAll(".bar button")].map((b) => {
        const s = getComputedStyle(b);
        return { text: b.textContent, look: [s.backgroundColor, s.color, s.fontSize, s.fontWeight,
          s.paddingTop, s.paddingLeft, s.borderTopWidth, b.getBoundingClientRect().height].join("|") };
      });
    });
    const before = await page_state(page);
    await page.getByRole("button", { name: "Reject all" }).click();
    const saved = await recorded(ctx);
    const after = await page_state(page);
    await page.reload();
    const again = await bannerShown(page);
    const reloaded = await page_state(page);
    await ctx.close();
    return { shown, buttons, before, saved, after, again, reloaded };
  },

  async customise() {
    const ctx = await context({ locale: "ru-RU" });
    const page = await ctx.newPage();
    await page.goto(config.sites.bazaar);
    const shown = await waitBanner(page);
    const title = await page.evaluate(() =>
      document.querySelector("[data-charter-consent]").shadowRoot.querySelector("h2").textContent);
    const before = await page_state(page);
    await page.getByRole("button", { name: "Настроить" }).click();
    const open = await dialogOpen(page);
    await page.getByRole("checkbox", { name: "Аналитика" }).check();
    await page.getByRole("button", { name: "Сохранить мой выбор" }).click();
    const saved = await recorded(ctx);
    await page.waitForFunction(() => window.analyticsRan === 1 && window.externalAnalyticsRan);
    const after = await page_state(page);
    await page.reload();
    const again = await bannerShown(page);
    await page.waitForFunction(() => window.analyticsRan === 1);
    const reloaded = await page_state(page);
    await ctx.close();
    return { shown, title, open, before, saved, after, again, reloaded };
  },

  async keyboard() {
    const ctx = await context();
    const page = await ctx.newPage();
    await page.goto(config.sites.bazaar);
    await waitBanner(page);
    const axeBanner = await axe(page);
    const order = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press("Tab");
      const now = await focused(page);
      order.push(now.what);
      if (now.what === "customise") break;
    }
    await page.keyboard.press("Enter");
    const opened = await dialogOpen(page);
    const first = await focused(page);
    await page.keyboard.press("Escape");
    const closedByEscape = !(await dialogOpen(page));
    const back = await focused(page);
    await page.keyboard.press("Enter");
    const axeDialog = await axe(page);
    const trapped = [];
    for (let i = 0; i < 14; i++) {
      await page.keyboard.press("Tab");
      trapped.push(await focused(page));
    }
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press("Shift+Tab");
      trapped.push(await focused(page));
    }
    for (let i = 0; i < 20 && (await focused(page)).what !== "input#cb-in-analytics"; i++) {
      await page.keyboard.press("Tab");
    }
    await page.keyboard.press("Space");
    for (let i = 0; i < 20 && (await focused(page)).what !== "save"; i++) {
      await page.keyboard.press("Tab");
    }
    await page.keyboard.press("Enter");
    const saved = await recorded(ctx);
    const after = await page_state(page);
    await ctx.close();
    return { axeBanner, order, opened, first, closedByEscape, back, axeDialog, trapped, saved, after };
  },

  // The first recording reaches Charter but its answer is lost: the banner sends it again
  // with the same clientEventId, and the ledger holds it once.
  async retry() {
    const ctx = await context();
    const page = await ctx.newPage();
    let dropped = 0;
    await page.route("**/graphql", async (route) => {
      if (route.request().method() === "POST" && dropped === 0) {
        dropped += 1;
        // Charter records it (node has no host rules: the same server by its address)...
        await route.fetch({ url: route.request().url().replace(/charter\.example/, "127.0.0.1") });
        return route.abort("connectionreset"); // ...and the browser never hears back
      }
      return route.continue();
    });
    await page.goto(config.sites.bazaar);
    await waitBanner(page);
    await page.getByRole("button", { name: "Accept all" }).click();
    const saved = await recorded(ctx);
    await ctx.close();
    return { dropped, saved };
  },

  async gpc() {
    const ctx = await context({ extraHTTPHeaders: { "Sec-GPC": "1" } });
    await ctx.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true }));
    const page = await ctx.newPage();
    await page.goto(config.sites.savdo);
    const signal = await recorded(ctx, (r) => r.m === "GPC");
    const shown = await waitBanner(page);
    const before = await page_state(page);
    await page.getByRole("button", { name: "Accept all" }).click();
    const saved = await recorded(ctx, (r) => r.m === "BANNER");
    const after = await page_state(page);
    await ctx.close();
    return { signal, shown, before, saved, after };
  },

  async implied() {
    const ctx = await context();
    const page = await ctx.newPage();
    await page.goto(config.sites.notice);
    const shown = await waitBanner(page);
    const labels = await page.evaluate(() => [...document.querySelector("[data-charter-consent]")
      .shadowRoot.querySelectorAll(".bar button")].map((b) => b.textContent));
    await page.getByRole("button", { name: "OK" }).click();
    const saved = await recorded(ctx);
    await ctx.close();
    // Another visitor says nothing and reads on: use of the site, recorded as such.
    const quiet = await context();
    const next = await quiet.newPage();
    await next.goto(config.sites.notice);
    const noticed = await waitBanner(next);
    const none = await record(quiet);
    await next.goto(config.sites.notice + "?page=2");
    const continued = await recorded(quiet);
    const state = await page_state(next);
    await quiet.close();
    return { shown, labels, saved, noticed, none, continued, state };
  },

  async screenshots() {
    const out = {};
    for (const locale of ["en", "ru", "uz", "ky"]) {
      const ctx = await context({ locale });
      const page = await ctx.newPage();
      await page.goto(config.sites.bazaar);
      await waitBanner(page);
      out[locale] = await page.evaluate(() => {
        const root = document.querySelector("[data-charter-consent]").shadowRoot;
        return { lang: root.querySelector(".bar").lang, accept: root.querySelector("[data-action=accept]").textContent };
      });
      await shot(page, `banner-${locale}`);
      await ctx.close();
    }
    return out;
  },

  // Last: it publishes new versions of the bazaar's policy.
  async material() {
    const ctx = await context();
    const page = await ctx.newPage();
    await page.goto(config.sites.bazaar);
    await waitBanner(page);
    await page.getByRole("button", { name: "Accept all" }).click();
    const first = await recorded(ctx);
    await page.reload();
    const afterReload = await bannerShown(page);
    const minor = await publish(false);
    await page.reload();
    const afterMinor = await bannerShown(page);
    const stillGranted = await page.evaluate(() => window.Charter.consent.get("analytics.reporting"));
    const major = await publish(true);
    await page.reload();
    const afterMaterial = await waitBanner(page);
    const staleGranted = await page.evaluate(() => window.Charter.consent.get("analytics.reporting"));
    const ranOnStale = await page.evaluate(() => window.analyticsRan || 0);
    await page.getByRole("button", { name: "Accept all" }).click();
    const second = await recorded(ctx, (r) => r.v === major);
    await ctx.close();
    return { first, afterReload, minor, afterMinor, stillGranted, major, afterMaterial, staleGranted,
             ranOnStale, second };
  },
};

try {
  for (const name of config.scenarios || Object.keys(scenarios)) {
    try {
      console.log(JSON.stringify({ scenario: name, ...(await scenarios[name]()) }));
    } catch (error) {
      console.log(JSON.stringify({ scenario: name, error: String(error && error.stack || error) }));
    }
  }
} finally {
  await browser.close();
}
