// Lighthouse over several pages, each in a fresh Chromium: a page's own cookies (the CSRF
// token) would replace the session's Cookie header on the next page in the same browser.
// Usage: node lighthouse.mjs '{"pages": [{"url": ..., "cookie": "sessionid=..."}], "flags": [...]}'
// Prints, as JSON, for each URL: its accessibility and best-practices scores and the audits
// that cost points. The mobile preset is Lighthouse's default.
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";

const { pages, flags } = JSON.parse(process.argv[2]);
const results = [];
for (const { url, cookie } of pages) {
  const chrome = await chromeLauncher.launch({
    chromePath: process.env.CHROME_PATH,
    chromeFlags: flags,
  });
  try {
    const { lhr } = await lighthouse(url, {
      port: chrome.port,
      onlyCategories: ["accessibility", "best-practices"],
      extraHeaders: cookie ? { Cookie: cookie } : undefined,
      logLevel: "error",
    });
    const failing = Object.values(lhr.categories).flatMap((category) =>
      category.auditRefs
        .filter((ref) => ref.weight > 0 && lhr.audits[ref.id].score !== 1)
        .map((ref) => {
          const items = lhr.audits[ref.id].details?.items ?? [];
          const where = items.map((item) => item.node?.snippet).filter(Boolean).slice(0, 5);
          return `${ref.id}: ${lhr.audits[ref.id].title} ${where.join(" ")}`;
        }),
    );
    results.push({
      url,
      finalUrl: lhr.finalDisplayedUrl,
      accessibility: Math.round(lhr.categories.accessibility.score * 100),
      bestPractices: Math.round(lhr.categories["best-practices"].score * 100),
      failing,
      runtimeError: lhr.runtimeError ? lhr.runtimeError.message : null,
    });
  } finally {
    await chrome.kill();
  }
}
process.stdout.write(JSON.stringify(results));
