import { test, expect } from "@playwright/test";
import { SIM_DEVICES, isSameDocument, isSamePage, markDocument, markPage, waitForHydration, signIn } from "./helpers";

// This server's simulator answers device pages and statistics slowly, so a sync lasts a few
// seconds: long enough to watch the progress bar move.

test.describe.configure({ mode: "serial" });

test.beforeEach(async ({ page }) => {
  await signIn(page);
});


test("set-up shows the connector healthy with the sync buttons", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Set Up Service to Service Connector" }).click();
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected", { timeout: 30_000 });
  const health = page.getByTestId("health");
  await expect(health).toHaveAttribute("data-health", "healthy");
  await expect(health).toHaveText("Healthy");
  await expect(page.getByRole("button", { name: "Quick sync" })).toBeEnabled();
  await expect(page.getByRole("button", { name: "Full sync" })).toBeEnabled();
});

test("Full sync shows a moving progress bar, then a new last sync and history row, without a reload", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await markDocument(page);
  const lastSync = page.getByTestId("last-sync").locator("time");
  const before = await lastSync.getAttribute("datetime");
  expect(before).toBeTruthy();

  await page.getByRole("button", { name: "Full sync" }).click();

  const bar = page.getByRole("progressbar");
  await expect(bar).toBeVisible();
  // Both buttons wait while the run goes on.
  await expect(page.getByRole("button", { name: "Quick sync" })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Full sync" })).toBeDisabled();

  // Sample the bar until it is gone: it must have shown several values, only going up.
  const values: number[] = [];
  const phases = new Set<string>();
  // Read in one go in the page: the bar can go away between two locator calls.
  await expect
    .poll(
      async () => {
        const sample = await page.evaluate(() => {
          const el = document.querySelector('[role="progressbar"]');
          if (!el) return null;
          const phase = document.querySelector('[data-testid="sync-phase"]')?.textContent ?? "";
          return { now: Number(el.getAttribute("aria-valuenow")), phase };
        });
        if (!sample) return true;
        if (!Number.isNaN(sample.now) && values[values.length - 1] !== sample.now) values.push(sample.now);
        if (sample.phase) phases.add(sample.phase.replace(/\d+(,\d{3})*/g, "N"));
        return false;
      },
      { intervals: [100], timeout: 30_000 },
    )
    .toBe(true);
  expect(values.length, `progress values seen: ${values}`).toBeGreaterThan(1);
  for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
  expect([...phases].some((p) => p.startsWith("Reading devices — page N, N devices")), [...phases].join(" | ")).toBe(true);

  // The run is over: a new last sync, buttons back, same document.
  await expect(lastSync).not.toHaveAttribute("datetime", before!);
  await expect(page.getByTestId("last-sync")).toContainText("just now");
  await expect(page.getByTestId("device-count")).toHaveText(String(SIM_DEVICES));
  await expect(page.getByRole("button", { name: "Full sync" })).toBeEnabled();
  await expect(page.getByTestId("health")).toHaveAttribute("data-health", "healthy");

  // The history (reached through the navigation, still the same document) has the run on top.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sync history" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Sync history" })).toBeVisible();
  const rows = page.getByTestId("history-row");
  await expect(rows).toHaveCount(2);
  const newest = rows.first();
  await expect(newest.getByTestId("run-status")).toHaveAttribute("data-status", "succeeded");
  await expect(newest).toContainText("Full sync");
  await expect(newest).toContainText("Manual");
  await expect(page.getByRole("img", { name: /Sync duration and devices seen/ })).toBeVisible();
  expect(await isSameDocument(page), "the page must not have been reloaded").toBe(true);
});

test("the history page shows a run that starts and ends while it is open", async ({ page }) => {
  await page.goto("/conditional-access/exchange-connector/sync-history");
  await waitForHydration(page);
  await markDocument(page);
  const rows = page.getByTestId("history-row");
  await expect(rows).toHaveCount(2);
  await markPage(page);

  // A plain request with the admin's session (as another tab would) starts a quick sync.
  const started = await page.request.post("/api/connector/sync", {
    form: { kind: "deltaSync" },
    headers: { Accept: "application/json" },
  });
  expect(started.status()).toBe(200);

  await expect(rows).toHaveCount(3);
  await expect(rows.first()).toContainText("Quick sync");
  await expect(rows.first().getByTestId("run-status")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  expect(await isSameDocument(page)).toBe(true);
  expect(await isSamePage(page), "the history must change in place, not be built again").toBe(true);
});

test("a row opens the run's details: numbers, API calls by cmdlet", async ({ page }) => {
  await page.goto("/conditional-access/exchange-connector/sync-history");
  await waitForHydration(page);
  await page.getByTestId("history-row").nth(1).getByRole("link").click();
  await expect(page.getByRole("heading", { level: 1, name: "Full sync run" })).toBeVisible();
  const numbers = page.getByRole("region", { name: "Devices and requests" });
  await expect(numbers.locator('dt:text-is("Devices seen") + dd')).toHaveText(String(SIM_DEVICES));
  const cmdlets = page.getByRole("region", { name: "API calls by cmdlet" });
  await expect(cmdlets.getByRole("row", { name: /^Get-MobileDevice\s+3$/ })).toBeVisible();
  await expect(cmdlets).toContainText("Get-MobileDeviceStatistics");
});
