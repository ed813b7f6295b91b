// Time to first paint of the console page (after login), beside the login
// page's (a small static page from the same server: the floor), in Debian's
// chromium. Prints one JSON line: medians over RUNS loads.
//   URL=http://127.0.0.1:PORT TOKEN=... RUNS=5 node paint.mjs
import { chromium } from "playwright-core";

const { URL: base, TOKEN: token } = process.env;
const runs = Number(process.env.RUNS || 5);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const paints = () => Object.fromEntries(
  performance.getEntriesByType("paint").map((e) => [e.name, e.startTime]));
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = { login_fp: [], login_fcp: [], page_fp: [], page_fcp: [], page_rows_ms: [] };
for (let i = -1; i < runs; i++) {      // run -1 warms chromium up, not counted
  const context = await browser.newContext();      // a cold cache each time
  const page = await context.newPage();
  await page.goto(`${base}/login`, { waitUntil: "load" });
  let p = await page.evaluate(paints);
  const keep = i >= 0;
  if (keep) {
    out.login_fp.push(p["first-paint"]);
    out.login_fcp.push(p["first-contentful-paint"]);
  }
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/`);
  await page.waitForSelector("#domains tbody tr");
  p = await page.evaluate(paints);
  const rows = await page.evaluate(() => performance.now());
  if (keep) {
    out.page_fp.push(p["first-paint"]);
    out.page_fcp.push(p["first-contentful-paint"]);
    out.page_rows_ms.push(rows);       // navigation start to the domains listed
  }
  await context.close();
}
await browser.close();
console.log(JSON.stringify(Object.fromEntries(
  Object.entries(out).map(([k, v]) => [k, median(v)]))));
