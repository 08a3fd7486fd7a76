import { test, expect } from "@playwright/test";
import { SIM_DEVICES, isSameDocument, isSamePage, markDocument, markPage, waitForHydration, signIn } from "./helpers";

test.describe.configure({ mode: "serial" });

test.beforeEach(async ({ page }) => {
  await signIn(page);
});


test("a click sets up the connector and shows Connected without a reload", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await markDocument(page);
  await expect(page.getByTestId("connection-status")).toContainText("Not set up");
  await markPage(page);

  await page.getByRole("button", { name: "Set Up Service to Service Connector" }).click();

  const status = page.getByTestId("connection-status");
  await expect(status).toHaveAttribute("data-status", "connected");
  await expect(status).toHaveText("Connected");
  await expect(page.getByTestId("device-count")).toHaveText(String(SIM_DEVICES));
  await expect(page.getByTestId("last-sync")).toContainText("just now");
  const byState = page.getByRole("list", { name: "Devices by access state" }).getByRole("listitem");
  await expect(byState.first()).toContainText("Allowed");
  const counts = (await byState.allTextContents()).map((t) => Number(t.trim().split(/\s+/).pop()));
  expect(counts.reduce((a, b) => a + b, 0)).toBe(SIM_DEVICES);
  const info = page.getByRole("region", { name: "Exchange Connector Server information" });
  await expect(info).toContainText("serviceToService");
  await expect(info).toContainText("/adminapi/beta");
  await expect(page.getByRole("button", { name: "Set Up Service to Service Connector" })).toHaveCount(0);
  expect(await isSameDocument(page), "the page must not have been reloaded").toBe(true);
  expect(await isSamePage(page), "the page must change in place, not be built again").toBe(true);
});

test("a reload shows the same connector, read from the database", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");
  await expect(page.getByTestId("device-count")).toHaveText(String(SIM_DEVICES));
  await expect(page.getByTestId("last-sync").locator("time")).toHaveAttribute("datetime", /^\d{4}-\d{2}-\d{2}T/);
});

test("Remove connector asks for the organization's name, then disconnects and keeps the history", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await page.locator("summary", { hasText: "Remove connector" }).click();
  const prompt = await page.locator("label:has(input[name=confirmation]) span").innerText();
  const organization = prompt.replace(/^Type /, "").replace(/ to confirm$/, "");
  expect(organization.length).toBeGreaterThan(3);
  const confirmation = page.locator("input[name=confirmation]");
  const remove = page.getByRole("button", { name: "Remove connector", exact: true });

  await confirmation.fill("Not the organization");
  await remove.click();
  await expect(page.getByRole("alert")).toContainText(organization);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");

  await confirmation.fill(organization);
  await expect(page.getByLabel("Keep them")).toBeChecked();
  await remove.click();
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "none");
  await expect(page.getByRole("button", { name: "Set Up Service to Service Connector" })).toBeVisible();

  // Kept: the sync history still lists the set-up's run.
  await page.goto("/conditional-access/exchange-connector/sync-history");
  await expect(page.getByTestId("history-row").first()).toBeVisible();
});
