// The privacy center in Debian's Chromium, on the tenant's own domain: send a request and
// confirm it with the code from the e-mail, in Russian (scripts on) and in Uzbek (scripts
// off). It prints {"need": "code", "email": ...} and reads {"code": ...} from stdin: the
// Python side fetches the real e-mail from its SMTP server.
//   node center.mjs '<json config>'
import { readFileSync, mkdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { launch } from "./browser.mjs";

const config = JSON.parse(process.argv[2]);
const AXE = readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
const lines = createInterface({ input: process.stdin });
const input = lines[Symbol.asyncIterator]();
const { browser } = await launch({ hostRules: config.hostRules });

async function code(email) {
  console.log(JSON.stringify({ need: "code", email }));
  const { value } = await input.next();
  return JSON.parse(value).code;
}

async function axe(page) {
  await page.evaluate(AXE);
  return page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] }))
    .violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.html.slice(0, 160)) })));
}

async function request({ locale, scripts, email, kind }) {
  const ctx = await browser.newContext({ locale, javaScriptEnabled: scripts,
                                         viewport: { width: 1024, height: 900 } });
  ctx.setDefaultTimeout(15000);
  const page = await ctx.newPage();
  const failed = []; // anything the page asked for and did not get (a browser's favicon aside)
  page.on("response", (r) => {
    if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) failed.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(config.center);
  const lang = await page.getAttribute("html", "lang");
  const heading = await page.textContent("h1");
  const form = page.locator(`#right-${kind}`);
  await form.getByRole("textbox", { name: config.emailLabel[locale] }).fill(email);
  await form.getByRole("button").click();
  await page.waitForURL(/\/privacy\/requests\/[0-9a-f-]{36}/);
  const asked = await page.textContent("main h2");
  await page.getByRole("textbox").fill(await code(email));
  await page.getByRole("button").click();
  await page.waitForSelector("main h2");
  const done = { heading: await page.textContent("main h2"), text: await page.textContent("main") };
  await ctx.close();
  return { locale, scripts, lang, heading, asked, done, failed };
}

async function screenshots() {
  const out = {};
  for (const locale of ["en", "ru", "uz", "ky"]) {
    const ctx = await browser.newContext({ locale, viewport: { width: 1024, height: 900 } });
    const page = await ctx.newPage();
    await page.goto(config.center);
    out[locale] = { lang: await page.getAttribute("html", "lang"), axe: await axe(page) };
    if (config.screenshots) {
      mkdirSync(config.screenshots, { recursive: true });
      await page.screenshot({ path: `${config.screenshots}/center-${locale}.png` });
    }
    await ctx.close();
  }
  return out;
}

const runs = {
  ru: () => request({ locale: "ru-RU", scripts: true, email: "ali.ru@bazaar.example", kind: "ERASURE" }),
  uz: () => request({ locale: "uz", scripts: false, email: "ali.uz@bazaar.example", kind: "ACCESS" }),
  screenshots,
};
try {
  for (const [name, run] of Object.entries(runs)) {
    try {
      console.log(JSON.stringify({ scenario: name, ...(await run()) }));
    } catch (error) {
      console.log(JSON.stringify({ scenario: name, error: String((error && error.stack) || error) }));
    }
  }
} finally {
  lines.close();
  await browser.close();
}
