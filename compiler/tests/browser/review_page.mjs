// Drives the review page (convlytics review sample --html) in headless Chromium as a reviewer
// would: marks the first item correct, the second wrong with another label and a note with
// quotes and a comma, leaves the rest, checks the progress line, and exports the CSV.
// Usage: node review_page.mjs PLAYWRIGHT_CORE_DIR PAGE.html OUT.csv
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [playwrightDir, pagePath, outPath] = process.argv.slice(2);
const { chromium } = await import(pathToFileURL(path.join(playwrightDir, 'index.mjs')).href);
const browser = await chromium.launch({
  executablePath: process.env.CONVLYTICS_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ acceptDownloads: true });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(path.resolve(pagePath)).href);
  const items = page.locator('section.item');
  const count = await items.count();
  if (count < 2) throw new Error(`the page shows ${count} items`);
  await items.nth(0).locator('input[value=correct]').check();
  await items.nth(1).locator('input[value=wrong]').check();
  await items.nth(1).locator('select.correction').selectOption({ index: 1 });
  await items.nth(1).locator('input.note').fill('said "refund", then cancel');
  const progress = await page.locator('#progress').textContent();
  if (progress !== `2 of ${count} reviewed`) throw new Error(`progress reads "${progress}"`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  await download.saveAs(outPath);
  // Verdicts survive a reload (the browser's storage).
  await page.reload();
  const kept = await page.locator('section.item').nth(0).locator('input[value=correct]').isChecked();
  if (!kept) throw new Error('the verdicts were lost on reload');
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  console.log(`${count} items, ${progress}, exported ${download.suggestedFilename()}`);
} finally {
  await browser.close();
}
