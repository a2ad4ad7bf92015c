// Drives Debian's headless chromium through playwright-core over the accord
// dashboard and prints what a visitor sees, as JSON, for tests/dashboard.rs to
// judge. Screenshots of every page (ru and en) go to the given folder.
//
//   node dashboard.mjs <base url> <public programme id> <private programme id>
//        <username> <password> <screenshot dir>
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, publicId, privateId, username, password, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });

const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'accord-chromium-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1366, height: 900 },
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const out = { dialogs: [], pages: {} };
const page = context.pages()[0] ?? (await context.newPage());
// An alert() would mean a title ran as script.
page.on('dialog', async (d) => { out.dialogs.push(d.message()); await d.dismiss(); });

const text = async (selector) => {
  const el = await page.$(selector);
  return el ? (await el.textContent()).trim() : null;
};
const all = async (selector) => page.$$eval(selector, (els) => els.map((e) => e.textContent.trim()));

async function visit(name, path) {
  const res = await page.goto(base + path, { waitUntil: 'load' });
  const seen = {
    status: res.status(),
    url: page.url(),
    lang: await page.getAttribute('html', 'lang'),
    h1: await text('h1'),
    h2: await all('h2'),
    nav: await all('nav.main a'),
    percent: await text('[data-test=percent]'),
    // page.$ (not page.getAttribute, which waits for a missing element).
    percentValue: await page.$('[data-test=percent]').then((el) => (el ? el.getAttribute('data-value') : null)),
    overdue: await text('[data-test=overdue]'),
    overdueTotal: await text('[data-test=overdue-total]'),
    items: await all('[data-test=item-text]'),
    user: await text('[data-test=user]'),
    body: (await page.textContent('body')).replace(/\s+/g, ' '),
  };
  await page.screenshot({ path: join(shots, `dashboard-${name}.png`), fullPage: true });
  out.pages[name] = seen;
  return seen;
}

// Anonymous, in both languages: the switch is followed by clicking its link.
await visit('overview-ru', '/dashboard?lang=ru');
await page.click('[data-test=language-switch] a[lang=en]');
out.switched = { lang: await page.getAttribute('html', 'lang'), h1: await text('h1'), url: page.url() };
// The choice is remembered: a page without ?lang= stays English.
await visit('overdue-remembered', '/dashboard/overdue');
for (const lang of ['ru', 'en']) {
  await visit(`overview-${lang}`, `/dashboard?lang=${lang}`);
  await visit(`programme-${lang}`, `/dashboard/programmes/${publicId}?lang=${lang}`);
  await visit(`overdue-${lang}`, `/dashboard/overdue?lang=${lang}`);
  await visit(`calendar-${lang}`, `/dashboard/calendar?month=2025-06&lang=${lang}`);
  await visit(`login-${lang}`, `/dashboard/login?lang=${lang}`);
}
await visit('private-anonymous', `/dashboard/programmes/${privateId}?lang=en`);
// A filter through the plain GET form.
await page.goto(`${base}/dashboard/programmes/${publicId}?lang=en`);
await page.selectOption('select[name=status]', 'overdue');
await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
out.filtered = { url: page.url(), shown: await text('[data-test=rows-shown]'), numbers: await page.$$eval('table.implementation tbody tr', (rows) => rows.map((r) => r.dataset.number)) };

// Sign in through the form.
await page.goto(`${base}/dashboard/login?lang=en`);
await page.fill('input[name=username]', username);
await page.fill('input[name=password]', password);
await Promise.all([page.waitForNavigation(), page.click('form.login button[type=submit]')]);
const cookies = await context.cookies();
out.session_cookie = cookies.filter((c) => c.name === 'accord_session').map((c) => ({ httpOnly: c.httpOnly, sameSite: c.sameSite, path: c.path }));
await visit('overview-signed-in', '/dashboard?lang=en');
await visit('private-signed-in', `/dashboard/programmes/${privateId}?lang=en`);
// Sign out: the session ends.
await Promise.all([page.waitForNavigation(), page.click('.who form button[type=submit]')]);
await visit('private-signed-out', `/dashboard/programmes/${privateId}?lang=en`);

await context.close();
process.stdout.write(JSON.stringify(out));
