import { test, expect } from "@playwright/test";
import { REQUIRED_CMDLETS, SIM_DEVICES } from "./helpers";

// JavaScript is off in this project: everything here is the server-rendered HTML.

test.describe.configure({ mode: "serial" });

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

test("an unknown address answers 404 inside the portal frame", async ({ page }) => {
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
