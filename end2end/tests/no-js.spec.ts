import { test, expect, Page } from "@playwright/test";
import { readFile } from "node:fs/promises";
import { REQUIRED_CMDLETS, SIM_DEVICES, signIn } from "./helpers";

// JavaScript is off in this project: everything here is the server-rendered HTML.

test.describe.configure({ mode: "serial" });

test.beforeEach(async ({ page }) => {
  await signIn(page);
});


test("the server-rendered page shows the requirements and the set-up button", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle("Exchange service connector – Exchange Connector");
  await expect(page.getByRole("heading", { level: 1, name: "Exchange service connector" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Exchange service connector" }))
    .toHaveAttribute("aria-current", "page");
  await expect(page.getByRole("navigation", { name: "Breadcrumb" })).toContainText("Conditional access");
  await expect(page.getByRole("heading", { name: "Requirements" })).toBeVisible();
  const cmdlets = page.getByRole("list", { name: "Required cmdlets" }).getByRole("listitem");
  await expect(cmdlets).toHaveText(REQUIRED_CMDLETS);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "none");
  await expect(page.getByRole("button", { name: "Set Up Service to Service Connector" })).toBeEnabled();
});

test("the second address shows the same page", async ({ page }) => {
  await page.goto("/conditional-access/exchange-connector");
  await expect(page.getByRole("button", { name: "Set Up Service to Service Connector" })).toBeVisible();
});

test("without JavaScript the button still sets up the connector through a form post", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("button", { name: "Set Up Service to Service Connector" }).click();
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");
  // The form post ends with a redirect back to the page, not on the server function's URL.
  expect(new URL(page.url()).pathname).toBe("/");
  await expect(page.getByTestId("device-count")).toHaveText(String(SIM_DEVICES));
});

const HISTORY = "/conditional-access/exchange-connector/sync-history";

/** Presses a sync button (a plain form post) once no sync runs, and waits until it is over. */
async function syncWithoutJs(page: Page, name: "Quick sync" | "Full sync") {
  await expect(async () => {
    await page.goto("/");
    await expect(page.getByRole("button", { name })).toBeEnabled({ timeout: 500 });
  }).toPass({ timeout: 20_000 });
  await page.getByRole("button", { name }).click();
  expect(new URL(page.url()).pathname, "the form post redirects back to the page").toBe("/");
  await expect(async () => {
    await page.goto("/");
    await expect(page.getByRole("progressbar")).toHaveCount(0, { timeout: 500 });
  }).toPass({ timeout: 20_000 });
}

test("without JavaScript the connector page shows health and the sync buttons post as forms", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByTestId("health")).toHaveAttribute("data-health", "healthy");
  await syncWithoutJs(page, "Quick sync");
  await syncWithoutJs(page, "Quick sync");
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");
});

test("without JavaScript the history lists the runs newest first with a chart", async ({ page }) => {
  const response = await page.goto(HISTORY);
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle("Sync history – Exchange Connector");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sync history" }))
    .toHaveAttribute("aria-current", "page");
  await expect(page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Exchange service connector" }))
    .toBeVisible();
  const rows = page.getByTestId("history-row");
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toContainText("Quick sync");
  await expect(rows.nth(2)).toContainText("Full sync");
  await expect(rows.nth(2)).toContainText("Set-up");
  const times = await rows.locator("time").evaluateAll((els) => els.map((e) => e.getAttribute("datetime") ?? ""));
  expect([...times].sort().reverse()).toEqual(times);
  const chart = page.getByRole("img", { name: /Sync duration and devices seen/ });
  await expect(chart).toBeVisible();
  await expect(chart.locator("rect")).toHaveCount(3);
  await expect(page.getByTestId("chart-summary")).toContainText("3 runs in the last 30 days");
});

test("without JavaScript the filters are a GET form and the pages plain links", async ({ page }) => {
  await page.goto(HISTORY);
  await page.getByLabel("Trigger").selectOption({ label: "Manual" });
  await page.getByRole("button", { name: "Apply filters" }).click();
  expect(new URL(page.url()).searchParams.get("trigger")).toBe("manual");
  const rows = page.getByTestId("history-row");
  await expect(rows).toHaveCount(2);
  for (const cell of await rows.locator("[data-trigger]").all()) await expect(cell).toHaveAttribute("data-trigger", "manual");
  await expect(page.getByLabel("Trigger")).toHaveValue("manual");

  await page.getByLabel("Status").selectOption({ label: "Failed" });
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page.getByTestId("history-empty")).toHaveText("No sync runs match these filters.");
  await page.getByRole("link", { name: "Clear filters" }).click();
  await expect(rows).toHaveCount(3);

  // One run a page: "Older runs" walks the ledger with a cursor in the address.
  await page.goto(`${HISTORY}?limit=1`);
  const seen: string[] = [];
  for (;;) {
    await expect(rows).toHaveCount(1);
    seen.push((await rows.first().getAttribute("data-run-id")) ?? "");
    const older = page.getByRole("link", { name: "Older runs" });
    if ((await older.count()) === 0) break;
    await older.click();
    expect(new URL(page.url()).searchParams.get("cursor")).toBeTruthy();
    await expect(page.getByRole("link", { name: "Newest runs" })).toBeVisible();
  }
  expect(seen).toHaveLength(3);
  expect(new Set(seen).size).toBe(3);
});

test("without JavaScript a row opens the run's details", async ({ page }) => {
  await page.goto(HISTORY);
  await page.getByTestId("history-row").first().getByRole("link").click();
  expect(new URL(page.url()).pathname).toMatch(new RegExp(`^${HISTORY}/.+`));
  await expect(page.getByRole("heading", { level: 1, name: "Quick sync run" })).toBeVisible();
  await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByRole("region", { name: "API calls by cmdlet" })).toContainText("Get-MobileDevice");
  const missing = await page.goto(`${HISTORY}/no-such-run`);
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "No such sync run" })).toBeVisible();
});

test("the CSV link downloads the filtered list with a header and one row per run", async ({ page }) => {
  await page.goto(`${HISTORY}?trigger=manual`);
  const ids = await page.getByTestId("history-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-run-id")));
  expect(ids).toHaveLength(2);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Export CSV" }).click(),
  ]);
  expect(download.suggestedFilename()).toBe("sync-history.csv");
  const path = await download.path();
  const lines = (await readFile(path!, "utf8")).trim().split(/\r?\n/);
  expect(lines[0].split(",").slice(0, 5)).toEqual(["id", "kind", "trigger", "triggered_by", "status"]);
  expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(ids);
  for (const line of lines.slice(1)) expect(line.split(",")[2]).toBe("manual");

  const all = await page.request.get("/conditional-access/exchange-connector/sync-history.csv");
  expect(all.headers()["content-type"]).toContain("text/csv");
  expect((await all.text()).trim().split(/\r?\n/)).toHaveLength(4);
});

test("an unknown address answers 404 inside the portal frame", async ({ page }) => {
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
