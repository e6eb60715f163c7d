// Browser harness for the dashboard end-to-end test.
//
// The Rust test starts the server, pipes ONE JSON job into `node tests/dashboard/browse.mjs`
// and reads ONE JSON result from stdout; it judges the result itself. Diagnostics go to
// stderr. Exit 0 means the job ran (whatever it found); non-zero means it could not run
// (bad job, browser would not start, server unreachable).
//
// Job:    {"base": "http://127.0.0.1:PORT", "token": "<JWT>", "pages": ["/dashboard", ...],
//          "home": "/dashboard/umbrella" (where signing in lands; default /dashboard),
//          "after": {"post": "/volunteers", "body": {...}, "page": "/dashboard",
//                    "figure": "volunteers.registered", "equals": 4, "timeout_ms": 30000}}
// Result: {"sign_in": {"status", "violations", "tabs"}, "signed_in",
//          "pages": [{"path", "status", "title", "lang", "figures", "charts", "charts_named",
//                     "violations", "errors", "timing"}],
//          "after": {"post_status", "seen", "ms", "reloaded"}}
//
// Steps: open pages[0] without a cookie (expect the 401 sign-in page, run axe on it); sign in
// with the keyboard only (Tab to #token, type, Enter); visit each page and collect what a
// person and a screen reader get; optionally POST through the API and wait, without a
// reload, for the page's own polling to show the new figure.
// Needs Debian's /usr/bin/chromium and node_modules: deploy/local/install-browser.sh.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const AXE = fileURLToPath(new URL('./node_modules/axe-core/axe.min.js', import.meta.url));
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
// The closed network here refuses background connections: keep chromium from making any.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const log = (...a) => console.error('browse:', ...a);
const round = (ms) => Math.round(ms * 10) / 10;
const pathOf = (url) => new URL(url).pathname;

let injecting = false; // hides the console's CSP complaint about our own script tag

async function axe(page) {
  // A strict CSP refuses the inline script tag; evaluating the source is not subject to it.
  injecting = true;
  const tagged = await page.addScriptTag({ path: AXE }).then(() => true, () => false);
  injecting = false;
  if (!tagged || !(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(readFileSync(AXE, 'utf8'));
  }
  const found = await page.evaluate((values) =>
    window.axe.run(document, { runOnly: { type: 'tag', values } }).then((r) => r.violations), AXE_TAGS);
  return found.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
}

async function signIn(page, job) {
  const first = await page.goto(job.base + job.pages[0]);
  const sign_in = { status: first?.status() ?? null, violations: await axe(page), tabs: null };
  for (let i = 1; i <= 20; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.id === 'token')) { sign_in.tabs = i; break; }
  }
  if (sign_in.tabs === null) { log('Tab never reached #token'); return { sign_in, signed_in: false }; }
  await page.keyboard.type(job.token);
  // The POST answers 303; wait for the main frame's final (non-redirect) answer.
  const landed = Promise.all([page.waitForResponse((r) => r.request().isNavigationRequest()
    && r.frame() === page.mainFrame() && (r.status() < 300 || r.status() >= 400)),
    page.waitForEvent('load')]);
  await page.keyboard.press('Enter');
  const [resp] = await landed.catch((e) => { log('no page after Enter:', e.message); return [null]; });
  // Signing in lands on the viewer's first page: the overview, or `home` when the job says.
  const home = job.home ?? '/dashboard';
  const signed_in = !!resp && resp.status() === 200 && pathOf(page.url()) === home;
  if (!signed_in) log('not signed in; ended at', page.url(), 'status', resp?.status());
  return { sign_in, signed_in };
}

async function visit(page, path, base) {
  const errors = [];
  const onError = (e) => errors.push(e.message);
  page.on('pageerror', onError);
  const resp = await page.goto(base + path);
  await page.waitForFunction(() => performance.getEntriesByType('navigation')[0]?.loadEventEnd > 0);
  const seen = await page.evaluate(() => {
    const named = (svg) => {
      if (svg.getAttribute('aria-label')?.trim()) return true;
      const ids = (svg.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
      if (ids.some((id) => document.getElementById(id)?.textContent.trim())) return true;
      return [...svg.children].some((c) => c.localName === 'title' && c.textContent.trim());
    };
    const figures = {};
    for (const el of document.querySelectorAll('[data-figure]')) {
      figures[el.dataset.figure] = Number(el.dataset.value);
    }
    const charts = [...document.querySelectorAll('svg[role="img"]')];
    const n = performance.getEntriesByType('navigation')[0];
    return {
      title: document.title, lang: document.documentElement.lang, figures,
      charts: charts.length, charts_named: charts.filter(named).length,
      timing: { response_start: n.responseStart, response_end: n.responseEnd,
        dom_content_loaded: n.domContentLoadedEventEnd, load: n.loadEventEnd },
    };
  });
  for (const k of Object.keys(seen.timing)) seen.timing[k] = round(seen.timing[k]);
  const violations = await axe(page);
  page.off('pageerror', onError);
  return { path, status: resp?.status() ?? null, ...seen, violations, errors };
}

async function after(page, job) {
  const a = job.after;
  await page.goto(job.base + a.page);
  await page.evaluate(() => { window.__browseMark = true; }); // gone if the page reloads
  const res = await fetch(job.base + a.post, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${job.token}`,
      'Idempotency-Key': crypto.randomUUID() },
    body: JSON.stringify(a.body),
  });
  const t0 = performance.now();
  if (!res.ok) {
    log('POST', a.post, res.status, (await res.text()).slice(0, 500));
    return { post_status: res.status, seen: false, ms: null, reloaded: false };
  }
  const seen = await page.waitForFunction(({ figure, equals }) => {
    const el = document.querySelector(`[data-figure="${CSS.escape(figure)}"]`);
    return window.__browseMark && el && Number(el.dataset.value) === equals;
  }, { figure: a.figure, equals: a.equals }, { timeout: a.timeout_ms ?? 30000, polling: 50 })
    .then(() => true, (e) => { log('figure not seen:', e.message.split('\n')[0]); return false; });
  const ms = seen ? Math.round(performance.now() - t0) : null;
  const reloaded = !(await page.evaluate(() => window.__browseMark === true));
  return { post_status: res.status, seen, ms, reloaded };
}

async function main() {
  const job = JSON.parse(readFileSync(0, 'utf8'));
  if (typeof job.base !== 'string' || typeof job.token !== 'string'
    || !Array.isArray(job.pages) || job.pages.length === 0) {
    throw new Error('job needs "base", "token" and a non-empty "pages"');
  }
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(30000);
    page.on('console', (m) => injecting || log(`console.${m.type()}:`, m.text()));
    const result = await signIn(page, job);
    result.pages = [];
    for (const path of job.pages) result.pages.push(await visit(page, path, job.base));
    if (job.after) result.after = await after(page, job);
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await browser.close();
  }
}

main().catch((e) => { log('could not run:', e.stack || e); process.exitCode = 2; });
