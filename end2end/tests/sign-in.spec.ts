import { test, expect } from "@playwright/test";
import { ADMIN, READER, waitForHydration } from "./helpers";

// Signing in through the page, as a person does: hydrated, then without a session.

test("an anonymous visit goes to sign-in, a wrong password is refused, the right one comes back", async ({ page }) => {
  await page.goto("/conditional-access/exchange-connector/sync-history");
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await waitForHydration(page);

  await page.getByLabel("Email address").fill(ADMIN.email);
  await page.getByLabel("Password").fill("not the password at all");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("The email address or password is not right.");

  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/conditional-access\/exchange-connector\/sync-history$/);
  await expect(page.getByRole("banner")).toContainText(ADMIN.email);
  await expect(page.getByRole("link", { name: "Users" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Audit log" })).toBeVisible();

  // The audit log shows this sign-in and the failed one before it.
  await page.getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Audit log");
  await expect(page.locator("main")).toContainText(ADMIN.email);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in\?next=/);
});

test("a reader signs in and sees no admin links; the admin pages are refused", async ({ page }) => {
  await page.goto("/sign-in");
  await waitForHydration(page);
  await page.getByLabel("Email address").fill(READER.email);
  await page.getByLabel("Password").fill(READER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/conditional-access\/exchange-connector$/);
  await expect(page.getByRole("link", { name: "Users" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Audit log" })).toHaveCount(0);
  const users = await page.goto("/admin/users");
  expect(users?.status()).toBe(403);
});
