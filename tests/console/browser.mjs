// The web console in a real browser (Debian's chromium, headless, driven by playwright-core): sign in, the insights'
// figures against the API's, a filter and the range through the URL, a CSV download, the PDF print, the leads list
// with a lead named <script>, accepting a lead, the export, and a viewer who sees no forms. Run by
// tests/integration/test_console.py, which starts the daemon; settings come from the environment:
//   CONSOLE_URL (the admin listener), ADMIN_TOKEN, VIEWER_TOKEN, ARTIFACTS (screenshots, downloads, the PDF),
//   SCRIPT_LEAD (the id of the lead named <script>...), ACCEPT_LEAD (a lead waiting for an answer).
import {chromium} from "playwright-core";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

const base = process.env.CONSOLE_URL;
const artifacts = process.env.ARTIFACTS;
const step = (what) => console.log("step: " + what);

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"],
});
const problems = [];

async function signedIn(token) {
  const context = await browser.newContext({acceptDownloads: true, viewport: {width: 1400, height: 1000}});
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") problems.push("console error: " + m.text()); });
  await page.goto(base + "/console/insights?range=3M");
  assert.match(page.url(), /\/console\/login\?next=/, "without a session the page sends to sign-in");
  await page.fill("#token", token);
  await Promise.all([page.waitForURL(/\/console\/insights/), page.click("#sign-in")]);
  return {context, page};
}

async function ready(page) {
  await page.waitForSelector("body[data-ready=true]", {timeout: 30000});
}

// The API's answer for the page's own query string, fetched with the page's session.
async function apiOf(page, widget) {
  return page.evaluate(async (w) => (await fetch("/api/v1/insights/" + w + location.search)).json(), widget);
}

async function tilesShown(page) {
  return page.$$eval("[data-tile]", (tiles) => Object.fromEntries(tiles.map((t) =>
    [t.dataset.tile, Number(t.querySelector(".value").dataset.value)])));
}

async function checkFigures(page, label) {
  const summary = await apiOf(page, "summary");
  const shown = await tilesShown(page);
  assert.deepEqual(shown, Object.fromEntries(summary.tiles.map((t) => [t.name, t.value])), label + ": summary tiles");
  const geo = await apiOf(page, "geo");
  const rows = await page.$$eval("#geo-table tbody tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  assert.deepEqual(rows.map((r) => [r[0], Number(r[1].replace(/,/g, ""))]),
                   geo.countries.map((c) => [c.country, c.leads]), label + ": country table");
  const funnel = await apiOf(page, "funnel");
  for (const g of funnel.groups) {
    const text = await page.$eval(`[data-group=${g.name}]`, (e) => e.textContent);
    assert.ok(text.includes(g.received.count.toLocaleString("en-US")), label + ": funnel " + g.name);
  }
  for (const w of ["summary", "funnel", "offers", "geo", "programs", "reasons", "compare"]) {
    const state = await page.$eval(`[data-widget=${w}]`, (e) => e.dataset.state);
    assert.ok(["ready", "empty"].includes(state), label + ": widget " + w + " is " + state);
  }
  return summary;
}

// --- insights, as a referral admin ----------------------------------------------------------------------------
step("sign in");
const admin = await signedIn(process.env.ADMIN_TOKEN);
let page = admin.page;
await ready(page);
const before = await checkFigures(page, "3M");
assert.ok(before.tiles.find((t) => t.name === "leads").value > 0);
await page.screenshot({path: path.join(artifacts, "insights-3M.png"), fullPage: true});

step("a filter and the range");
await page.fill("#country", "US");
await page.selectOption("#range", "6M");
await Promise.all([page.waitForURL(/country=US/), page.click("#apply")]);
await ready(page);
const url = new URL(page.url());
assert.equal(url.searchParams.get("country"), "US");
assert.equal(url.searchParams.get("range"), "6M");
const after = await checkFigures(page, "6M US");
assert.notDeepEqual(after.tiles, before.tiles, "the figures follow the filter");
await page.screenshot({path: path.join(artifacts, "insights-6M-US.png"), fullPage: true});

step("download CSV");
const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-csv")]);
const csvPath = path.join(artifacts, "insights.csv");
await download.saveAs(csvPath);
const csv = fs.readFileSync(csvPath, "utf8");
assert.match(csv, /## summary/);
assert.ok(csv.includes(String(after.tiles.find((t) => t.name === "leads").value)), "the CSV has the figures");
assert.match(csv, /country US/);

step("print to PDF");
await page.emulateMedia({media: "print"});
await page.pdf({path: path.join(artifacts, "insights.pdf"), format: "A4", landscape: true, printBackground: true});
await page.emulateMedia({media: "screen"});

// --- leads --------------------------------------------------------------------------------------------------
step("the leads list escapes contact data");
await page.goto(base + "/console/leads");
await ready(page);
const scriptRow = page.locator(`tr[data-lead="${process.env.SCRIPT_LEAD}"]`);
const nameText = await scriptRow.locator(".lead-name").textContent();
assert.ok(nameText.includes("<script>"), "a lead named <script> shows as text: " + nameText);
assert.equal(await page.evaluate(() => window.__xss), undefined, "nothing of the lead ran");
assert.equal(await page.$$eval("#leads-table script", (s) => s.length), 0);
assert.ok(await page.locator("[data-validity]").count() > 0, "validity indicators");
assert.ok(await page.locator("button.copy").count() > 0, "copy buttons");
assert.ok(await page.locator("tr .hot svg").count() > 0, "the hot flame on Contact me leads");
await page.screenshot({path: path.join(artifacts, "leads.png"), fullPage: true});

step("export CSV with the filters");
await page.goto(base + "/console/leads?status=Received");
await ready(page);
const [exported] = await Promise.all([page.waitForEvent("download"), page.click("#export-csv")]);
const exportPath = path.join(artifacts, "leads.csv");
await exported.saveAs(exportPath);
const exportText = fs.readFileSync(exportPath, "utf8");
assert.ok(exportText.includes(process.env.ACCEPT_LEAD), "the export has the waiting lead");

step("accept a lead");
await page.goto(base + "/console/leads/" + process.env.ACCEPT_LEAD);
await ready(page);
assert.equal(await page.textContent("#lead-status"), "Received");
await page.fill("#form-accept [name=deal_name]", "Browser deal");
await page.fill("#form-accept [name=deal_value]", "1234");
await page.fill("#form-accept [name=close_date]", "2027-06-30");
await page.fill("#form-accept [name=notes]", "accepted in the browser test");
await Promise.all([page.waitForEvent("load"), page.click("#form-accept button[type=submit]")]);
await ready(page);
assert.equal(await page.textContent("#lead-status"), "Accepted");
assert.match(await page.textContent("#history"), /Received → Accepted/);
await page.screenshot({path: path.join(artifacts, "lead-accepted.png"), fullPage: true});
await page.goto(base + "/console/leads?status=Accepted");
await ready(page);
assert.equal(await page.textContent(`tr[data-lead="${process.env.ACCEPT_LEAD}"] .status`), "Accepted");

step("a viewer sees no forms");
const viewer = await signedIn(process.env.VIEWER_TOKEN);
await ready(viewer.page);
await viewer.page.goto(base + "/console/leads/" + process.env.SCRIPT_LEAD);
await ready(viewer.page);
assert.equal(await viewer.page.locator("#actions").isHidden(), true);
assert.equal(await viewer.page.locator("form.action").count(), 0);
const refused = await viewer.page.evaluate(async (id) => {
  const session = await (await fetch("/console/session")).json();
  const r = await fetch("/api/v1/leads/" + id + "/decline", {method: "POST", headers: {"X-CSRF-Token": session.csrf,
    "Content-Type": "application/json"}, body: JSON.stringify({reason: 8, notes: "x"})});
  return r.status;
}, process.env.SCRIPT_LEAD);
assert.equal(refused, 403, "the API refuses what the role may not do");

step("sign out");
await Promise.all([viewer.page.waitForURL(/\/console\/login/), viewer.page.click("#sign-out")]);
await viewer.page.goto(base + "/console/leads");
assert.match(viewer.page.url(), /\/console\/login/);

const csp = problems.filter((p) => /Content Security Policy|Refused/.test(p));
assert.deepEqual(csp, [], "no Content-Security-Policy violations");
assert.deepEqual(problems.filter((p) => p.startsWith("page error")), [], "no page errors");
if (problems.length) console.log("console messages:\n" + problems.join("\n"));
await browser.close();
console.log("browser test passed");
