// The public meetings page in a real browser: headless Chromium (Debian's /usr/bin/chromium),
// driven by puppeteer-core, for tests/it/meetings_browser.rs.
//
// Usage: node meetings-page.mjs URL SCREENSHOT_DIR
//
// Loads URL at desktop width and at 375 and 320 px phone widths (the visitor's zone emulated as
// Europe/Berlin), and once at 320 px with JavaScript off. For each load, prints (one JSON
// document on stdout) what a newcomer would meet: console errors, page errors, Content Security
// Policy violations, failed requests, whether the page is wider than the screen, the Join,
// Subscribe and feed links, the meetings listed, and the "Your time" lines the inline script
// adds; it writes a full-page screenshot of each JavaScript run to SCREENSHOT_DIR. The feed
// link is fetched too (its status and first line). Judging is the Rust test's job.
import puppeteer from "puppeteer-core";
import path from "node:path";

const [url, screenshots] = process.argv.slice(2);
if (!url || !screenshots) {
  console.error("usage: node meetings-page.mjs URL SCREENSHOT_DIR");
  process.exit(2);
}

const RUNS = [
  { name: "desktop", width: 1280, height: 900, mobile: false, javascript: true },
  { name: "phone-375", width: 375, height: 812, mobile: true, javascript: true },
  { name: "phone-320", width: 320, height: 640, mobile: true, javascript: true },
  { name: "phone-320-no-javascript", width: 320, height: 640, mobile: true, javascript: false },
];

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  // Root in a container has no user namespaces for the sandbox; the page is our own.
  args: ["--no-sandbox", "--disable-gpu", "--font-render-hinting=none"],
});
const results = [];
let version = "";
try {
  version = await browser.version();
  for (const run of RUNS) {
    results.push(await visit(run));
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify({ version, runs: results }));

async function visit(run) {
  const page = await browser.newPage();
  const seen = { console: [], pageErrors: [], failed: [] };
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warn") {
      seen.console.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => seen.pageErrors.push(String(error)));
  page.on("requestfailed", (request) =>
    seen.failed.push(`${request.url()}: ${request.failure()?.errorText}`),
  );
  page.on("response", (response) => {
    if (response.status() >= 400) seen.failed.push(`${response.url()}: ${response.status()}`);
  });
  // Injected by the browser itself (not subject to the page's policy): records every violation.
  await page.evaluateOnNewDocument(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  await page.setJavaScriptEnabled(run.javascript);
  await page.emulateTimezone("Europe/Berlin");
  await page.setViewport({
    width: run.width,
    height: run.height,
    isMobile: run.mobile,
    hasTouch: run.mobile,
    deviceScaleFactor: 1,
  });
  const response = await page.goto(url, { waitUntil: "load" });
  const hrefs = (selector) =>
    page.$$eval(selector, (links) => links.map((a) => a.getAttribute("href")));
  const texts = (selector) =>
    page.$$eval(selector, (nodes) =>
      nodes.filter((n) => !n.hidden).map((n) => n.textContent.trim()),
    );
  // Violations are reported by the browser's event, or (with JavaScript off) only on the console.
  const violations = run.javascript ? await page.evaluate(() => window.__violations) : [];
  const result = {
    name: run.name,
    width: run.width,
    javascript: run.javascript,
    status: response.status(),
    csp: response.headers()["content-security-policy"] ?? null,
    console: seen.console,
    pageErrors: seen.pageErrors,
    failed: seen.failed,
    violations,
    widerThanScreen: await page.evaluate(
      () => document.documentElement.scrollWidth > window.innerWidth,
    ),
    join: await hrefs("a.join"),
    subscribe: await hrefs("a.subscribe"),
    feed: await hrefs("a.feed"),
    meetings: await texts(".meetings li time"),
    yours: await texts(".yours"),
    zoneNote: await texts("#your-zone"),
    landmarks: await page.$$eval("header, main, footer", (n) => n.map((e) => e.localName)),
    lang: await page.evaluate(() => document.documentElement.lang),
  };
  const feed = result.feed[0];
  if (feed) {
    const answer = await fetch(new URL(feed, url));
    const body = await answer.text();
    result.feedStatus = answer.status;
    result.feedType = answer.headers.get("content-type");
    result.feedFirstLine = body.split("\r\n")[0];
  }
  if (run.javascript) {
    result.screenshot = path.join(screenshots, `meetings-${run.name}.png`);
    await page.screenshot({ path: result.screenshot, fullPage: true });
  }
  await page.close();
  return result;
}
