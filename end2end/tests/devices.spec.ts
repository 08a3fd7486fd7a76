import { test, expect, Page } from "@playwright/test";
import { SIM_DEVICES, checkPage, ensureConnector, isSameDocument, markDocument, signIn, waitForHydration } from "./helpers";

// The device list, a device's page and readiness, hydrated, on the demo tenant once the
// connector is set up (its first sync finds the simulator's devices).

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
const listed = async (page: Page) => Number(await page.getByTestId("devices-count").getAttribute("data-count"));
const legend = (page: Page, name: RegExp) =>
  page.getByRole("list", { name: "Filter by access state" }).getByRole("link", { name });
const heading = (page: Page, name: string) => page.getByRole("columnheader", { name, exact: true });

/** Opens the list (hydrated) and returns the total the chart shows. */
async function openList(page: Page, query = ""): Promise<number> {
  await page.goto(`${DEVICES}${query}`);
  await waitForHydration(page);
  return count(await page.getByTestId("device-total").textContent());
}

/** Picks a page size in the form and applies it; waits for the resized page. */
async function perPage(page: Page, size: "25" | "50" | "100" | "200") {
  await page.getByLabel("Per page", { exact: true }).selectOption(size);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(new RegExp(`[?&]limit=${size}(&|$)`));
  await expect(rows(page)).toHaveCount(Math.min(Number(size), await listed(page)));
}

/** ASCII lower case, as SQLite's lower() (the server's sort key). */
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

test("the chart drills down into the list of one access state, and Clear filters shows all devices again", async ({ page }) => {
  const total = await openList(page);
  expect(total).toBe(SIM_DEVICES);
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(total));
  const entries = page.getByTestId("state-legend");
  const perState = (await entries.getByTestId("state-count").allTextContents()).map(count);
  expect(perState.reduce((a, b) => a + b, 0), "the legend adds up to the total").toBe(total);

  const blocked = legend(page, /^Blocked/);
  const blockedCount = count(await blocked.getByTestId("state-count").textContent());
  expect(blockedCount, "the demo tenant has blocked devices").toBeGreaterThan(0);
  await blocked.click();
  await expect(page).toHaveURL(/[?&]state=Blocked(&|$)/);
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(blockedCount));
  await expect(legend(page, /^Blocked/)).toHaveAttribute("aria-current", "true");
  await expect(page.getByLabel("Access state", { exact: true })).toHaveValue("Blocked");
  await expect(rows(page)).toHaveCount(Math.min(blockedCount, 50));
  const states = await rows(page).evaluateAll((rs) => rs.map((r) => r.getAttribute("data-state")));
  expect(new Set(states)).toEqual(new Set(["Blocked"]));

  await page.getByRole("link", { name: "Clear filters" }).click();
  await expect(page).toHaveURL((url) => url.pathname === DEVICES && url.search === "");
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(total));
  await expect(page.getByRole("link", { name: "Clear filters" })).toHaveCount(0);

  // An arc of the donut is a link too (here followed with the keyboard): Quarantined.
  const quarantined = count(await legend(page, /^Quarantined/).getByTestId("state-count").textContent());
  const arc = page.getByTestId("state-chart").getByRole("link", { name: `Quarantined: ${quarantined} devices` });
  await arc.focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/[?&]state=Quarantined(&|$)/);
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(quarantined));
  const quarantinedStates = await rows(page).evaluateAll((rs) => rs.map((r) => r.getAttribute("data-state")));
  expect(quarantinedStates).toHaveLength(Math.min(quarantined, 50));
  for (const s of quarantinedStates) expect(s).toBe("Quarantined");
});

test("search finds a device by part of its id, whatever the case", async ({ page }) => {
  await openList(page);
  const ids = await rows(page).evaluateAll((rs) =>
    rs.map((r) => ({ guid: r.getAttribute("data-guid") ?? "", id: r.querySelector("[data-testid=device-id]")?.textContent ?? "" })),
  );
  // A long id whose middle six characters hold a letter, typed in the other case.
  const picked = ids
    .filter((d) => d.id.length >= 16)
    .map((d) => ({ ...d, part: d.id.slice(Math.floor(d.id.length / 2) - 3, Math.floor(d.id.length / 2) + 3) }))
    .find((d) => /[a-z]/i.test(d.part));
  expect(picked, `a device id with letters among ${JSON.stringify(ids.map((d) => d.id))}`).toBeTruthy();
  const { guid, part } = picked!;
  const typed = part.replace(/[a-z]/gi, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));
  expect(typed).not.toBe(part);

  await page.getByLabel("Search", { exact: true }).fill(typed);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL((url) => url.searchParams.get("q") === typed);
  await expect(page.getByRole("link", { name: "Clear filters" })).toBeVisible();
  await expect(rows(page).and(page.locator(`[data-guid="${guid}"]`))).toHaveCount(1);
  const found = await listed(page);
  expect(found).toBeGreaterThanOrEqual(1);
  expect(found).toBeLessThan(SIM_DEVICES);
  for (const text of await rows(page).allTextContents()) expect(text.toLowerCase()).toContain(part.toLowerCase());
  await expect(page.getByLabel("Search", { exact: true })).toHaveValue(typed);
});

test("the column headings sort the list and a second click turns the order round", async ({ page }) => {
  await openList(page);
  await perPage(page, "200");
  expect(await listed(page)).toBe(SIM_DEVICES);
  await expect(page.getByRole("link", { name: "Next page" })).toHaveCount(0);

  // Last successful sync: newest first, never-synced last; again: the exact reverse.
  const lastSync = heading(page, "Last successful sync");
  await expect(lastSync).toHaveAttribute("aria-sort", "none");
  await lastSync.getByRole("link").click();
  await expect(lastSync).toHaveAttribute("aria-sort", "descending");
  await expect(page).toHaveURL((url) => url.searchParams.get("sort") === "lastSync" && url.searchParams.get("dir") === "desc");
  expect(new URL(page.url()).searchParams.get("limit"), "sorting keeps the page size").toBe("200");
  const times = await rows(page).evaluateAll((rs) =>
    rs.map((r) => r.querySelector("[data-testid=last-sync] time")?.getAttribute("datetime") ?? null),
  );
  expect(times).toHaveLength(SIM_DEVICES);
  const synced = times.filter((t): t is string => t !== null).map((t) => Date.parse(t));
  expect(synced.length, "some devices have synced").toBeGreaterThan(0);
  expect(times.slice(synced.length).every((t) => t === null), "the never-synced devices come last").toBe(true);
  for (let i = 1; i < synced.length; i++) expect(synced[i], `row ${i + 1}`).toBeLessThanOrEqual(synced[i - 1]);
  const newestFirst = await guids(page);

  await lastSync.getByRole("link").click();
  await expect(lastSync).toHaveAttribute("aria-sort", "ascending");
  await expect(page).toHaveURL((url) => url.searchParams.get("sort") === "lastSync" && url.searchParams.get("dir") === "asc");
  expect(await guids(page)).toEqual([...newestFirst].reverse());

  // User: A to Z by the mailbox (lower case), then Z to A.
  const user = heading(page, "User");
  await user.getByRole("link").click();
  await expect(user).toHaveAttribute("aria-sort", "ascending");
  await expect(lastSync).toHaveAttribute("aria-sort", "none");
  const users = await rows(page).evaluateAll((rs) => rs.map((r) => r.querySelector("td span[title]")?.getAttribute("title") ?? ""));
  expect(users).toHaveLength(SIM_DEVICES);
  for (let i = 1; i < users.length; i++) {
    expect(asciiLower(users[i - 1]) <= asciiLower(users[i]), `${users[i - 1]} before ${users[i]}`).toBe(true);
  }
  const aToZ = await guids(page);
  await user.getByRole("link").click();
  await expect(user).toHaveAttribute("aria-sort", "descending");
  const zToA = await guids(page);
  expect(zToA[0]).toBe(aToZ[aToZ.length - 1]);
  expect(zToA).toEqual([...aToZ].reverse());
});

test("Next page and Previous page walk the list without repeating or losing a device", async ({ page }) => {
  await openList(page);
  await perPage(page, "25");
  const total = await listed(page);
  const first = await guids(page);
  expect(first).toHaveLength(25);
  await expect(page.getByRole("link", { name: "Previous page" })).toHaveCount(0);

  await page.getByRole("link", { name: "Next page" }).click();
  await expect(page).toHaveURL((url) => !!url.searchParams.get("after") && url.searchParams.get("limit") === "25");
  await expect(rows(page).first()).not.toHaveAttribute("data-guid", first[0]);
  const second = await guids(page);
  expect(second).toHaveLength(25);
  expect(second.filter((g) => first.includes(g)), "no device of page 1 on page 2").toEqual([]);
  await expect(page.getByRole("link", { name: "First page" })).toBeVisible();

  await page.getByRole("link", { name: "Previous page" }).click();
  await expect(page).toHaveURL((url) => !!url.searchParams.get("before"));
  await expect(rows(page).first()).toHaveAttribute("data-guid", first[0]);
  expect(await guids(page)).toEqual(first);

  // Walking on to the end lists every device exactly once.
  await page.getByRole("link", { name: "First page" }).click();
  await expect(page).toHaveURL((url) => !url.searchParams.get("before") && !url.searchParams.get("after"));
  const seen = [...(await guids(page))];
  let last = seen[0];
  while ((await page.getByRole("link", { name: "Next page" }).count()) > 0) {
    await page.getByRole("link", { name: "Next page" }).click();
    await expect(rows(page).first()).not.toHaveAttribute("data-guid", last);
    const more = await guids(page);
    last = more[0];
    seen.push(...more);
    expect(seen.length, "the walk ends").toBeLessThanOrEqual(total);
  }
  expect(seen).toHaveLength(total);
  expect(new Set(seen).size).toBe(total);
});

/** Opens the first Blocked device of the list; returns its guid. */
async function openBlockedDevice(page: Page): Promise<string> {
  await openList(page, "?state=Blocked");
  const row = rows(page).first();
  await expect(row).toHaveAttribute("data-state", "Blocked");
  const guid = (await row.getAttribute("data-guid"))!;
  await row.getByRole("link").click();
  await expect(page).toHaveURL((url) => decodeURIComponent(url.pathname) === `${DEVICES}/${guid}`);
  await expect(page.getByTestId("device-title")).toBeVisible();
  return guid;
}

test("a blocked device's page says why it is blocked and lists its history down to first seen", async ({ page }) => {
  await openBlockedDevice(page);
  const why = page.getByRole("region", { name: "Why this access state" });
  await expect(why).toBeVisible();
  await expect(why.getByTestId("why-summary")).toHaveText(/^Blocked\b.+/);
  await expect(page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Devices" })).toBeVisible();
  const events = page.getByTestId("device-events").getByTestId("device-event");
  await expect(events.last()).toHaveAttribute("data-kind", "firstSeen");
  await expect(events.last()).toContainText("First seen");
});

test("readiness counts the EAS clients below 16.1 and its groups open the filtered list", async ({ page }) => {
  await page.goto(READINESS);
  await waitForHydration(page);
  const legacyTotal = count(await page.getByTestId("legacy-total").textContent());
  expect(legacyTotal, "the demo tenant has EAS clients below 16.1").toBeGreaterThan(0);
  for (const list of ["by-agent", "by-os", "by-version"]) {
    const n = (await page.getByTestId(list).getByTestId("group-link").allTextContents()).map(count);
    expect(n.reduce((a, b) => a + b, 0), `the groups of ${list} add up to the total`).toBe(legacyTotal);
  }

  const group = page.getByTestId("by-agent").getByTestId("group-link").first();
  const groupCount = count(await group.textContent());
  await group.click();
  await expect(page).toHaveURL((url) => url.pathname === DEVICES && url.searchParams.get("eas") === "legacy");
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(groupCount));
  await expect(page.getByLabel("EAS below 16.1", { exact: true })).toBeChecked();
  await expect(rows(page)).toHaveCount(Math.min(groupCount, 50));
  for (const text of await rows(page).allTextContents()) expect(text).toContain("below 16.1");

  await page.goto(READINESS);
  await waitForHydration(page);
  await page.getByTestId("legacy-total").click();
  await expect(page).toHaveURL((url) => url.pathname === DEVICES && url.searchParams.get("eas") === "legacy");
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(legacyTotal));
});

test("the connector page's access states and View devices lead to the list", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  const states = page.getByRole("list", { name: "Devices by access state" });
  const blocked = states.getByRole("link", { name: /^Blocked/ });
  const blockedCount = count(await blocked.locator("span").textContent());
  await blocked.click();
  await expect(page).toHaveURL((url) => url.pathname === DEVICES && url.searchParams.get("state") === "Blocked");
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(blockedCount));
  for (const s of await rows(page).evaluateAll((rs) => rs.map((r) => r.getAttribute("data-state")))) expect(s).toBe("Blocked");

  await page.goto("/");
  await waitForHydration(page);
  await page.getByRole("link", { name: "View devices" }).click();
  await expect(page).toHaveURL((url) => url.pathname === DEVICES);
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(SIM_DEVICES));
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Devices" }))
    .toHaveAttribute("aria-current", "page");
  // Drawn in the browser after the navigation, the chart shows its arcs as the server's page does.
  await expect(page.getByTestId("state-chart").locator('circle[data-state="Allowed"]')).toBeVisible();
});

test("with JavaScript the filters, sorting and pages update the table in place", async ({ page }) => {
  await openList(page);
  await markDocument(page);
  await page.getByLabel("Access state", { exact: true }).selectOption("Allowed");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL((url) => url.searchParams.get("state") === "Allowed");
  const allowed = count(await legend(page, /^Allowed/).getByTestId("state-count").textContent());
  await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(allowed));
  for (const s of await rows(page).evaluateAll((rs) => rs.map((r) => r.getAttribute("data-state")))) expect(s).toBe("Allowed");

  const firstSync = heading(page, "First sync");
  await firstSync.getByRole("link").click();
  await expect(firstSync).toHaveAttribute("aria-sort", "descending");
  expect(new URL(page.url()).searchParams.get("state"), "sorting keeps the filter").toBe("Allowed");

  if (allowed > 50) {
    const before = await guids(page);
    await page.getByRole("link", { name: "Next page" }).click();
    await expect(rows(page).first()).not.toHaveAttribute("data-guid", before[0]);
  }
  expect(await isSameDocument(page), "the page must not have been reloaded").toBe(true);
});

// Accessibility (axe-core, WCAG 2.0/2.1 A and AA) and full-page screenshots to look at.

test("the device list has no WCAG 2.1 AA violations", async ({ page }) => {
  await openList(page);
  await expect(rows(page).first()).toBeVisible();
  await checkPage(page, "devices");
});

test("a device's page has no WCAG 2.1 AA violations", async ({ page }) => {
  await openBlockedDevice(page);
  await waitForHydration(page);
  await expect(page.getByTestId("device-events").getByTestId("device-event").first()).toBeVisible();
  await checkPage(page, "device");
});

test("readiness has no WCAG 2.1 AA violations", async ({ page }) => {
  await page.goto(READINESS);
  await waitForHydration(page);
  await expect(page.getByTestId("legacy-total")).toBeVisible();
  await checkPage(page, "readiness");
});
