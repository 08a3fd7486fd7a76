import { test, expect } from "@playwright/test";
import { ADMIN, signIn } from "./helpers";
import { startReceiver } from "./receiver";

// Without JavaScript the Notifications forms are plain form posts: the server comes back to the
// page with the outcome (kept in the session for that one page, never in an address).

test("without JavaScript a Teams webhook is added, tested and deleted", async ({ page }) => {
  const receiver = await startReceiver();
  await signIn(page, ADMIN);
  await page.goto("/admin/notifications");
  const name = `No-JS Teams ${Date.now()}`;
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Type").selectOption("teams");
  await page.getByLabel("Webhook address").fill(receiver.url("teams"));
  await page.getByRole("button", { name: "Add destination" }).click();
  await expect(page).toHaveURL(/\/admin\/notifications$/);
  await expect(page.getByTestId("webhook-created")).toContainText(`Destination "${name}" added`);
  await expect(page.getByTestId("signing-key")).toHaveCount(0);

  const row = page.locator(`[data-testid="webhook-row"][data-name="${name}"]`);
  await row.getByRole("button", { name: `Send a test to ${name}` }).click();
  await expect(page).toHaveURL(/\/admin\/notifications$/);
  await expect(page.getByTestId("test-outcome")).toContainText("(HTTP 200)");
  const card = JSON.parse(receiver.got[0].body);
  expect(card.attachments[0].contentType).toBe("application/vnd.microsoft.card.adaptive");

  // An address that is not one comes back naming the field; nothing is added.
  const before = await page.locator('[data-testid="webhook-row"]').count();
  const bad = await page.request.post("/api/notifications/create", {
    form: { name: "Bad", kind: "slack", url: "mailto:ops@example.com", "events[0]": "syncFailed" },
    headers: { accept: "text/html", referer: `${test.info().project.use.baseURL}/admin/notifications` },
    maxRedirects: 0,
  });
  expect(bad.status()).toBe(302);
  await page.goto("/admin/notifications");
  await expect(page.getByTestId("webhook-error")).toContainText("Webhook address: must start with https://");
  await expect(page.locator('[data-testid="webhook-row"]')).toHaveCount(before);

  await row.getByRole("button", { name: `Delete ${name}` }).click();
  await expect(page).toHaveURL(/\/admin\/notifications$/);
  await expect(row).toHaveCount(0);
  await receiver.close();
});
