import { test, expect } from "@playwright/test";
import { OPTIONAL_CMDLETS, REQUIRED_CMDLETS, signIn, waitForHydration } from "./helpers";

// The simulator denies Set-ActiveSyncOrganizationSettings to the connector's application.

test("the checklist shows the one denied cmdlet with what to grant, and no connector is saved", async ({ page }) => {
  await signIn(page);
  await page.goto("/");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Set Up Service to Service Connector" }).click();

  await expect(page.getByRole("alert")).toContainText("is not allowed to run Set-ActiveSyncOrganizationSettings");
  const checklist = page.getByTestId("permission-checklist");
  await expect(checklist.locator('[data-permission="allowed"]')).toHaveCount(REQUIRED_CMDLETS.length + OPTIONAL_CMDLETS.length - 1);
  const denied = checklist.locator('[data-permission="denied"]');
  await expect(denied).toHaveCount(1);
  await expect(denied).toHaveAttribute("data-cmdlet", "Set-ActiveSyncOrganizationSettings");
  await expect(denied).toContainText("Organization Client Access");
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "none");

  // Nothing was saved: a reload shows no connector, and the checklist kept in the session.
  await page.reload();
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "none");
  await expect(page.getByTestId("permission-checklist").locator('[data-permission="denied"]')).toHaveCount(1);
});
