import { test, expect } from "@playwright/test";
import { isSameDocument, markDocument, waitForHydration, signIn } from "./helpers";

// This server's Exchange is configured at a closed loopback port: nothing answers.


test.beforeEach(async ({ page }) => {
  await signIn(page);
});

test("with Exchange unreachable a click shows a readable error and the connector is disconnected", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await markDocument(page);

  await page.getByRole("button", { name: "Set Up Service to Service Connector" }).click();

  const alert = page.getByRole("alert");
  await expect(alert).toContainText("Set-up failed");
  await expect(alert).toContainText("could not be reached");
  await expect(alert).toContainText("connection refused");
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "disconnected");
  await expect(page.getByTestId("status-reason")).toContainText("could not be reached");
  await expect(page.getByTestId("device-count")).toHaveText("0");
  await expect(page.getByTestId("last-sync")).toHaveText("Never");
  await expect(page.getByRole("button", { name: "Try again" })).toBeEnabled();
  expect(await isSameDocument(page)).toBe(true);

  // A reload keeps the reason: it was stored, not only shown.
  await page.reload();
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "disconnected");
  await expect(page.getByTestId("status-reason")).toContainText("connection refused");
});
