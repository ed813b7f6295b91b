// The web console in a real browser: Debian's chromium, headless, driven by
// playwright-core. Logs in with the token, creates the test guest with the
// create form (CONFIG: its config), sees it listed running, opens its
// console, types a line and waits for the guest's answer, presses Shut down
// and waits until the domain is gone. Screenshots go to SHOT_DIR. Prints one
// JSON line of results (timings included) at the end.
//   URL=http://127.0.0.1:PORT TOKEN=... DOMAIN=name CONFIG=... SHOT_DIR=dir node browser.mjs
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const { URL: base, TOKEN: token, DOMAIN: domain, CONFIG: config, SHOT_DIR: shots = "." } =
  process.env;
const line = process.env.LINE || "hello from chromium";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const result = { steps: [] };
const step = (name) => { result.steps.push(name); console.log(`ok ${name}`); };
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error") console.log(`page error: ${m.text()}`); });

  // Without the cookie the page sends us to the login form; a wrong token
  // is refused there.
  await page.goto(base + "/");
  await page.waitForURL("**/login");
  await page.fill("#token", "not-the-token-0123456789");
  await page.click("button[type=submit]");
  await page.waitForSelector("#login-error:has-text('wrong token')");
  step("wrong token refused at the login form");
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForURL(base + "/");
  const paint = await page.evaluate(() =>
    Object.fromEntries(performance.getEntriesByType("paint").map((e) => [e.name, e.startTime])));
  result.first_paint_ms = paint["first-paint"];
  result.first_contentful_paint_ms = paint["first-contentful-paint"];
  step("logged in");

  await page.fill("#create-config", config);
  await page.click("#create-form button[type=submit]");
  await page.waitForSelector(`#create-result:has-text("created ${domain}")`);
  step(`created ${domain} with the form`);

  const row = page.locator(`tr[data-domain="${domain}"]`);
  await row.waitFor();
  await page.waitForFunction((d) => {
    const tr = document.querySelector(`tr[data-domain="${d}"]`);
    return tr && /^[rb]/.test(tr.dataset.state) &&
      tr.querySelector(".memory").textContent.includes("MiB");
  }, domain);
  await page.waitForTimeout(2500);       // a few samples in the graphs
  await page.screenshot({ path: `${shots}/1-domains.png`, fullPage: true });
  step(`${domain} listed running (${await row.locator(".state").textContent()})`);

  await row.locator('[data-action="console"]').click();
  const screen = page.locator("#terminal .xterm-rows");
  await screen.waitFor();
  await page.waitForFunction(() =>
    document.querySelector("#terminal .xterm-rows").textContent.includes("type a line"));
  step("console open, the guest's prompt shown");
  await page.click("#terminal");
  await page.keyboard.type(line, { delay: 20 });
  await page.keyboard.press("Enter");
  const answer = `echo: '${line}' (${line.length} characters)`;
  await page.waitForFunction((a) =>
    document.querySelector("#terminal .xterm-rows").textContent.includes(a), answer);
  await page.screenshot({ path: `${shots}/2-console.png`, fullPage: true });
  step(`typed a line, the guest answered: ${answer}`);

  await row.locator('[data-action="shutdown"]').click();
  await page.waitForSelector("#console-status:has-text('closed')");
  await row.waitFor({ state: "detached", timeout: 30000 });
  await page.screenshot({ path: `${shots}/3-shut-down.png`, fullPage: true });
  step(`${domain} shut down and gone from the list`);
  result.ok = true;
} catch (e) {
  result.ok = false;
  result.error = String(e);
  if (page) await page.screenshot({ path: `${shots}/failure.png`, fullPage: true }).catch(() => {});
  console.log(`FAIL ${e}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
