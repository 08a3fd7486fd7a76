import { test, expect } from "@playwright/test";
import { ADMIN, READER, checkPage, ensureConnector, signIn, waitForHydration } from "./helpers";
import { signedWith, startReceiver } from "./receiver";

// Alert webhooks as an admin sets them up: a destination added on the Notifications page (its
// signing key shown once), a test sent and received signed, listed with its outcome, deleted.

test("an admin adds a signed webhook, sends a test that arrives signed, then deletes it", async ({ page }) => {
  const receiver = await startReceiver();
  await signIn(page, ADMIN);
  await ensureConnector(page);
  await page.goto("/admin/notifications");
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "Notifications", level: 1 })).toBeVisible();
  await checkPage(page, "notifications-empty");

  const name = `Ops receiver ${Date.now()}`;
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Type").selectOption("json");
  await page.getByLabel("Webhook address").fill(receiver.url("ops?sig=secret-part"));
  // Every event is chosen by default; this one hears all but the EAS 16.1 news.
  await page.locator('form[aria-labelledby="add-heading"]').getByLabel("New devices below EAS 16.1").uncheck();
  await page.getByRole("button", { name: "Add destination" }).click();
  await expect(page.getByTestId("webhook-created")).toContainText(`Destination "${name}" added`);
  const key = await page.getByTestId("signing-key").inputValue();
  expect(key).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
  const row = page.locator(`[data-testid="webhook-row"][data-name="${name}"]`);
  await expect(row).toContainText("JSON (signed)");
  // The address is never shown again in full.
  await expect(row).toContainText("…part");
  await expect(page.locator("body")).not.toContainText("sig=secret-part");
  const events = row.getByTestId("webhook-events");
  await expect(events).toContainText("A sync failed");
  await expect(events).not.toContainText("EAS 16.1");
  await checkPage(page, "notifications-added");

  await row.getByRole("button", { name: `Send a test to ${name}` }).click();
  await expect(page.getByTestId("test-outcome")).toContainText(`The test reached "${name}" (HTTP 200).`);
  expect(receiver.got).toHaveLength(1);
  const request = receiver.got[0];
  expect(request.path).toBe("/ops?sig=secret-part");
  expect(request.headers["x-connector-event"]).toBe("test");
  expect(signedWith(key, request)).toBe(true);
  const event = JSON.parse(request.body);
  expect(event.event).toBe("test");
  expect(event.summary).toContain(ADMIN.email);
  const delivery = page.locator('[data-testid="delivery-row"][data-event="test"]').first();
  await expect(delivery).toHaveAttribute("data-status", "delivered");
  await expect(delivery).toContainText("HTTP 200");
  await checkPage(page, "notifications-tested");

  // What it hears changes in place; its address and key stay.
  await row.getByText("Change", { exact: true }).click();
  await row.getByLabel("A sync failed").uncheck();
  await row.getByRole("button", { name: `Save the events of ${name}` }).click();
  await expect(page.getByRole("status").filter({ hasText: "now hears" })).toContainText(`"${name}" now hears: Connector turned warning`);
  await expect(events).not.toContainText("A sync failed");
  await expect(events).toContainText("A permission is missing");

  // Shown once: after a reload the key is gone.
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByTestId("signing-key")).toHaveCount(0);
  await expect(page.locator("body")).not.toContainText(key);

  await row.getByRole("button", { name: `Delete ${name}` }).click();
  await expect(page.getByRole("status").filter({ hasText: "deleted" })).toBeVisible();
  await expect(row).toHaveCount(0);
  await receiver.close();
});

test("a reader cannot open Notifications", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, READER);
  const response = await page.goto("/admin/notifications");
  expect(response?.status()).toBe(403);
  await page.goto("/conditional-access/exchange-connector");
  await expect(page.getByRole("navigation").first()).toContainText("Devices");
  await expect(page.getByRole("link", { name: "Notifications" })).toHaveCount(0);
  await context.close();
});
