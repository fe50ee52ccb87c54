// Debian's Chromium driven by playwright-core: no browser download, no network but what a
// test allows. Every browser test starts here so the flags live in one place.
import { chromium } from "playwright-core";

export const FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A browser and a page. `hostRules` maps names to the test server, e.g.
 * "MAP acme.example 127.0.0.1" (Chromium's --host-resolver-rules). */
export async function launch({ hostRules = null, args = [], context = {} } = {}) {
  const flags = [...FLAGS, ...args];
  if (hostRules) flags.push(`--host-resolver-rules=${hostRules}`);
  const browser = await chromium.launch({
    executablePath: process.env.CHARTER_CHROMIUM || "/usr/bin/chromium",
    args: flags,
  });
  const page = await (await browser.newContext(context)).newPage();
  return { browser, page };
}
