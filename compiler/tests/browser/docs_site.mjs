// Reads the docs site (convlytics docs generate) in headless Chromium as a person would, from
// file:// with nothing else reachable: every page loads without a console error or a request
// that is not a file of the site; the front page's lineage graph has one box per model, seed
// and source and one arrow per manifest edge, with no two boxes overlapping, and a click on a
// box opens its page; every chart draws one mark per row of its mart; the search finds a
// column among its offers and opens it; a column's lineage lights up the nodes it comes from. Screenshots go to
// SHOTS_DIR.
// Usage: node docs_site.mjs PLAYWRIGHT_CORE_DIR SITE_DIR EXPECT.json SHOTS_DIR
import { pathToFileURL } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';

const [playwrightDir, siteDir, expectPath, shotsDir] = process.argv.slice(2);
const expected = JSON.parse(fs.readFileSync(expectPath, 'utf8'));
const { chromium } = await import(pathToFileURL(path.join(playwrightDir, 'index.mjs')).href);
const site = path.resolve(siteDir);
const url = (file) => pathToFileURL(path.join(site, file)).href;
fs.mkdirSync(shotsDir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CONVLYTICS_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const problems = [];
const fail = (message) => problems.push(message);
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  let where = '';
  page.on('console', (m) => { if (m.type() === 'error') fail(`${where}: console error: ${m.text()}`); });
  page.on('pageerror', (e) => fail(`${where}: page error: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(pathToFileURL(site).href + '/')) fail(`${where}: requested ${u}`);
  });
  page.on('requestfailed', (r) => fail(`${where}: failed to load ${r.url()}`));
  const open = async (file) => { where = file; await page.goto(url(file)); };

  // Every page loads cleanly.
  const pages = fs.readdirSync(site).filter((f) => f.endsWith('.html')).sort();
  for (const file of pages) await open(file);

  // The project's lineage graph.
  await open('index.html');
  const ids = await page.$$eval('#dag svg.dag g.node', (nodes) => nodes.map((n) => n.dataset.id));
  const want = [...expected.nodes].sort();
  if (JSON.stringify([...ids].sort()) !== JSON.stringify(want)) {
    fail(`the graph has nodes ${JSON.stringify(ids.sort())}, the manifest ${JSON.stringify(want)}`);
  }
  const edges = await page.$$eval('#dag svg.dag path.edge', (paths) => paths.map((p) => `${p.dataset.from} -> ${p.dataset.to}`));
  const wantEdges = expected.edges.map(([from, to]) => `${from} -> ${to}`).sort();
  if (JSON.stringify([...edges].sort()) !== JSON.stringify(wantEdges)) {
    fail(`the graph has ${edges.length} edges, the manifest ${wantEdges.length}: ${JSON.stringify(edges.sort())}`);
  }
  const boxes = await page.$$eval('#dag svg.dag g.node rect', (rects) => rects.map((r) => {
    const b = r.getBBox();
    return [b.x, b.y, b.width, b.height];
  }));
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      if (a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3]) {
        fail(`boxes ${ids[i]} and ${ids[j]} overlap`);
      }
    }
  }
  await page.screenshot({ path: path.join(shotsDir, 'index.png'), fullPage: true });
  where = 'index.html (click)';
  await Promise.all([page.waitForNavigation(), page.click(`#dag g.node[data-id="${expected.click}"]`)]);
  const heading = await page.locator('h1').textContent();
  if (!expected.click.endsWith(`.${heading}`)) fail(`a click on ${expected.click} opened "${heading}"`);
  await page.screenshot({ path: path.join(shotsDir, 'model.png'), fullPage: true });

  // Every chart has one mark per row of its mart.
  await open('charts.html');
  const figures = await page.$$eval('figure.chart-figure', (fs) => fs.map((f) => ({
    mart: f.dataset.mart,
    marks: new Set([...f.querySelectorAll('svg [data-row]')].map((m) => m.dataset.row)).size,
    ticks: f.querySelectorAll('svg .tick, svg .value, svg .legend').length,
    empty: f.querySelector('.empty') !== null,
  })));
  const charted = Object.keys(expected.marts).sort();
  if (JSON.stringify(figures.map((f) => f.mart).sort()) !== JSON.stringify(charted)) {
    fail(`the charts read ${JSON.stringify(figures.map((f) => f.mart))}, expected ${JSON.stringify(charted)}`);
  }
  for (const f of figures) {
    const rows = expected.marts[f.mart];
    if (f.marks !== rows) fail(`the chart of ${f.mart} has ${f.marks} marks, the mart ${rows} rows`);
    if (rows > 0 && f.ticks === 0) fail(`the chart of ${f.mart} has no axis labels, values or legend`);
    if (rows === 0 && !f.empty) fail(`the chart of ${f.mart} is empty without saying so`);
  }
  await page.screenshot({ path: path.join(shotsDir, 'charts.png'), fullPage: true });

  // The search finds a column and opens it.
  await open('index.html');
  await page.fill('#search', expected.search.query);
  await page.locator('#search-results a').first().waitFor();
  const offered = await page.$$eval('#search-results a', (links) => links.map((a) => a.getAttribute('href')));
  if (!offered.includes(expected.search.href)) fail(`searching "${expected.search.query}" offers ${JSON.stringify(offered)}`);
  await page.screenshot({ path: path.join(shotsDir, 'search.png') });
  where = 'index.html (search)';
  await Promise.all([page.waitForNavigation(), page.click(`#search-results a[href="${expected.search.href}"]`)]);
  const row = page.locator(`tr#column-${expected.search.column}`);
  if (!(await row.isVisible())) fail(`the search result did not show the column ${expected.search.column}`);

  // A column's lineage: the columns it comes from, and their nodes lit in the graph.
  await open(expected.lineage.page);
  await page.selectOption('#column-lineage', expected.lineage.column);
  const from = await page.locator('#column-lineage-result a').allTextContents();
  for (const wanted of expected.lineage.from) {
    if (!from.includes(wanted)) fail(`the lineage of ${expected.lineage.column} lists ${JSON.stringify(from)}, not ${wanted}`);
  }
  const lit = await page.$$eval('#dag g.node.lit', (nodes) => nodes.map((n) => n.dataset.id));
  for (const node of expected.lineage.lit) {
    if (!lit.includes(node)) fail(`the lineage of ${expected.lineage.column} does not light ${node}: ${JSON.stringify(lit)}`);
  }
  await page.screenshot({ path: path.join(shotsDir, 'column-lineage.png'), fullPage: true });

  for (const file of ['quality.html', expected.taxonomy]) {
    await open(file);
    await page.screenshot({ path: path.join(shotsDir, file.replace(/\.html$/, '.png')), fullPage: true });
  }
  if (problems.length) throw new Error(problems.join('\n'));
  console.log(`${pages.length} pages, ${ids.length} nodes, ${edges.length} edges, ${figures.length} charts checked`);
} finally {
  await browser.close();
}
