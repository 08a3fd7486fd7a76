import { test, expect, Page } from "@playwright/test";
import { SIM_DEVICES, ensureConnector, signIn } from "./helpers";

// JavaScript is off in this project: the device list, a device's page and readiness as the
// server renders them; the filters are a GET form, sorting and pages plain links. After a
// click, the new address is checked, then the new document is read once it is parsed.

const DEVICES = "/conditional-access/devices";
const READINESS = "/conditional-access/readiness";

test.describe.configure({ mode: "serial" });

test.beforeEach(async ({ page }) => {
  await signIn(page);
  await ensureConnector(page);
});

/** The number in a text, thousands separators and words aside ("1,234 devices" -> 1234). */
function count(text: string | null): number {
  const digits = (text ?? "").match(/\d[\d,.\s\u202f]*/)?.[0].replace(/\D/g, "");
  expect(digits, `a number in ${JSON.stringify(text)}`).toBeTruthy();
  return Number(digits);
}

const rows = (page: Page) => page.getByTestId("device-row");
const guids = (page: Page) => rows(page).evaluateAll((rs) => rs.map((r) => r.getAttribute("data-guid") ?? ""));
const states = (page: Page) => rows(page).evaluateAll((rs) => rs.map((r) => r.getAttribute("data-state") ?? ""));
const listed = async (page: Page) => Number(await page.getByTestId("devices-count").getAttribute("data-count"));
const legendCount = async (page: Page, name: RegExp) =>
  count(
    await page
      .getByRole("list", { name: "Filter by access state" })
      .getByRole("link", { name })
      .getByTestId("state-count")
      .textContent(),
  );

test("without JavaScript the list is server-rendered with the chart and the first page", async ({ page }) => {
  const response = await page.goto(DEVICES);
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle("Devices – Exchange Connector");
  await expect(page.getByRole("heading", { level: 1, name: "Devices" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Devices" }))
    .toHaveAttribute("aria-current", "page");
  await expect(page.getByTestId("device-total")).toHaveText(String(SIM_DEVICES));
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(SIM_DEVICES));
  await expect(page.getByTestId("devices-count")).toHaveText(`${SIM_DEVICES} devices`);
  await expect(rows(page)).toHaveCount(50);
  await expect(page.getByRole("link", { name: "Export CSV" })).toBeVisible();
});

test("without JavaScript the filter form is a GET form that filters", async ({ page }) => {
  await page.goto(DEVICES);
  const blocked = await legendCount(page, /^Blocked/);
  expect(blocked).toBeGreaterThan(0);
  await page.getByLabel("Access state", { exact: true }).selectOption({ label: "Blocked" });
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL((url) => url.pathname === DEVICES && url.searchParams.get("state") === "Blocked");
  await page.waitForLoadState("domcontentloaded");
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(blocked));
  await expect(rows(page)).toHaveCount(Math.min(blocked, 50));
  for (const s of await states(page)) expect(s).toBe("Blocked");
  await expect(page.getByLabel("Access state", { exact: true })).toHaveValue("Blocked");

  // Two filters at once: blocked and an EAS client below 16.1 is a subset of blocked.
  await page.getByLabel("EAS below 16.1", { exact: true }).check();
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL((url) => url.searchParams.get("state") === "Blocked" && url.searchParams.get("eas") === "legacy");
  await page.waitForLoadState("domcontentloaded");
  await expect(page.getByLabel("EAS below 16.1", { exact: true })).toBeChecked();
  const both = await listed(page);
  expect(both).toBeLessThanOrEqual(blocked);
  for (const text of await rows(page).allTextContents()) expect(text).toContain("below 16.1");
  for (const s of await states(page)) expect(s).toBe("Blocked");

  await page.getByRole("link", { name: "Clear filters" }).click();
  await expect(page).toHaveURL((url) => url.pathname === DEVICES && url.search === "");
  await page.waitForLoadState("domcontentloaded");
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(SIM_DEVICES));

  // The chart's legend is a plain link too.
  const quarantined = await legendCount(page, /^Quarantined/);
  await page.getByRole("list", { name: "Filter by access state" }).getByRole("link", { name: /^Quarantined/ }).click();
  await expect(page).toHaveURL((url) => url.searchParams.get("state") === "Quarantined");
  await page.waitForLoadState("domcontentloaded");
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(quarantined));
  for (const s of await states(page)) expect(s).toBe("Quarantined");
});

test("without JavaScript a column heading is a link that sorts, and again reverses", async ({ page }) => {
  await page.goto(`${DEVICES}?limit=200`);
  await expect(rows(page)).toHaveCount(SIM_DEVICES);
  const lastSync = page.getByRole("columnheader", { name: "Last successful sync", exact: true });
  await expect(lastSync).toHaveAttribute("aria-sort", "none");
  await lastSync.getByRole("link").click();
  await expect(page).toHaveURL((url) => url.searchParams.get("sort") === "lastSync" && url.searchParams.get("dir") === "desc");
  await page.waitForLoadState("domcontentloaded");
  await expect(lastSync).toHaveAttribute("aria-sort", "descending");
  await expect(page.getByLabel("Per page", { exact: true }), "sorting keeps the page size").toHaveValue("200");
  const times = await rows(page).evaluateAll((rs) =>
    rs.map((r) => r.querySelector("[data-testid=last-sync] time")?.getAttribute("datetime") ?? null),
  );
  expect(times).toHaveLength(SIM_DEVICES);
  const synced = times.filter((t): t is string => t !== null).map((t) => Date.parse(t));
  expect(times.slice(synced.length).every((t) => t === null), "the never-synced devices come last").toBe(true);
  for (let i = 1; i < synced.length; i++) expect(synced[i], `row ${i + 1}`).toBeLessThanOrEqual(synced[i - 1]);
  const newestFirst = await guids(page);

  await lastSync.getByRole("link").click();
  await expect(page).toHaveURL((url) => url.searchParams.get("dir") === "asc");
  await page.waitForLoadState("domcontentloaded");
  await expect(lastSync).toHaveAttribute("aria-sort", "ascending");
  expect(await guids(page)).toEqual([...newestFirst].reverse());
});

test("without JavaScript Next page and Previous page are links with a cursor", async ({ page }) => {
  await page.goto(`${DEVICES}?limit=25`);
  const first = await guids(page);
  expect(first).toHaveLength(25);
  await page.getByRole("link", { name: "Next page" }).click();
  await expect(page).toHaveURL((url) => !!url.searchParams.get("after") && url.searchParams.get("limit") === "25");
  await page.waitForLoadState("domcontentloaded");
  const second = await guids(page);
  expect(second).toHaveLength(25);
  expect(second.filter((g) => first.includes(g)), "no device of page 1 on page 2").toEqual([]);
  await page.getByRole("link", { name: "Previous page" }).click();
  await expect(page).toHaveURL((url) => !!url.searchParams.get("before"));
  await page.waitForLoadState("domcontentloaded");
  expect(await guids(page)).toEqual(first);
  await page.getByRole("link", { name: "First page" }).click();
  await expect(page).toHaveURL((url) => !url.searchParams.get("before") && !url.searchParams.get("after"));
  await page.waitForLoadState("domcontentloaded");
  expect(await guids(page)).toEqual(first);
});

test("without JavaScript a device's page renders why it has its access state", async ({ page }) => {
  for (const state of ["Blocked", "Allowed"]) {
    await page.goto(`${DEVICES}?state=${state}`);
    const row = rows(page).first();
    const guid = await row.getAttribute("data-guid");
    await row.getByRole("link").click();
    await expect(page).toHaveURL((url) => decodeURIComponent(url.pathname) === `${DEVICES}/${guid}`);
    await page.waitForLoadState("domcontentloaded");
    await expect(page.getByTestId("device-title")).toBeVisible();
    const why = page.getByRole("region", { name: "Why this access state" });
    await expect(why.getByTestId("why-summary")).toHaveText(new RegExp(`^${state}\\b.+`));
    await expect(page.getByTestId("device-events").getByTestId("device-event").last()).toHaveAttribute("data-kind", "firstSeen");
  }
});

test("without JavaScript readiness renders its counts and its links open the filtered list", async ({ page }) => {
  const response = await page.goto(READINESS);
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1, name: "Readiness" })).toBeVisible();
  const legacyTotal = count(await page.getByTestId("legacy-total").textContent());
  expect(legacyTotal).toBeGreaterThan(0);
  for (const list of ["by-agent", "by-os", "by-version"]) {
    const n = (await page.getByTestId(list).getByTestId("group-link").allTextContents()).map(count);
    expect(n.length, list).toBeGreaterThan(0);
    expect(n.reduce((a, b) => a + b, 0), `the groups of ${list} add up to the total`).toBe(legacyTotal);
  }
  const stale = page.getByTestId("stale").getByTestId("stale-row");
  await expect(stale).toHaveCount(4);
  const staleCounts = (await stale.getByTestId("stale-count").allTextContents()).map(count);
  // More than 30 days includes more than 90, which includes more than 180.
  expect(staleCounts[0]).toBeGreaterThanOrEqual(staleCounts[1]);
  expect(staleCounts[1]).toBeGreaterThanOrEqual(staleCounts[2]);

  const os = page.getByTestId("by-os").getByTestId("group-link").first();
  const osCount = count(await os.textContent());
  await os.click();
  await expect(page).toHaveURL((url) => url.pathname === DEVICES && url.searchParams.get("eas") === "legacy" && !!url.searchParams.get("os"));
  await page.waitForLoadState("domcontentloaded");
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(osCount));
  for (const text of await rows(page).allTextContents()) expect(text).toContain("below 16.1");

  await page.goto(READINESS);
  await stale.first().getByTestId("stale-count").click();
  await expect(page).toHaveURL((url) => url.pathname === DEVICES && url.searchParams.get("stale") === "30");
  await page.waitForLoadState("domcontentloaded");
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(staleCounts[0]));
  await expect(page.getByLabel("Last successful sync", { exact: true })).toHaveValue("30");
});

test("an unknown device answers 404 with a way back to the list", async ({ page }) => {
  const missing = await page.goto(`${DEVICES}/no-such-device`);
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1, name: "Device not found" })).toBeVisible();
  await page.getByTestId("device-missing").getByRole("link", { name: "Back to the devices" }).click();
  await expect(page).toHaveURL((url) => url.pathname === DEVICES);
  await page.waitForLoadState("domcontentloaded");
});
