// Opens a page in Debian's Chromium and prints one JSON line: proves the browser harness works.
import { launch } from "./browser.mjs";

const [url] = process.argv.slice(2);
const { browser, page } = await launch();
try {
  const response = await page.goto(url);
  console.log(JSON.stringify({ status: response.status(), title: await page.title() }));
} finally {
  await browser.close();
}
