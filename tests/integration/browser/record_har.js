// Records a HAR with a real browser: Debian's chromium, driven by playwright-core (no browser
// download), opens URL, waits until the page sets its title to "done", and closes the context,
// which writes the HAR. Used by tests/integration/test_scan_har.py.
//   usage: node record_har.js URL OUT.har
const { chromium } = require("playwright-core");

(async () => {
  const [url, out] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    // The machine has no network beyond loopback: Chromium's own background traffic stays off.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
  try {
    const context = await browser.newContext({ recordHar: { path: out, content: "embed" } });
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.title === "done" || document.title.startsWith("error"),
                               null, { timeout: 30000 });
    const title = await page.title();
    await context.close();
    if (title !== "done") throw new Error(`the page said: ${title}`);
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
