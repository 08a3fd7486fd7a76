import { test, expect } from "@playwright/test";
import { ADMIN, signIn } from "./helpers";

// Without JavaScript the token forms are plain form posts: the server comes back to the page
// with the new token (kept in the session for that one page, never in an address).

test("without JavaScript a token is created, shown once and revoked", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto("/account");
  const name = `no-js script ${Date.now()}`;
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("token-created")).toContainText(`Token "${name}" created`);
  const secret = await page.getByTestId("token-secret").inputValue();
  expect(secret).toMatch(/^exc_/);
  const api = await page.request.get("/api/v1/connectors", {
    headers: { authorization: `Bearer ${secret}` },
  });
  expect(api.status()).toBe(200);

  // Shown once.
  await page.goto("/account");
  await expect(page.getByTestId("token-created")).toHaveCount(0);
  const row = page.locator(`[data-testid="token-row"][data-name="${name}"]`);
  await expect(row).toHaveAttribute("data-state", "active");

  const active = await page.locator('[data-testid="token-row"][data-state="active"]').count();
  // A name of spaces (the browser's own check lets it through) comes back naming the problem.
  const blank = await page.request.post("/api/tokens/create", {
    form: { name: "   ", role: "reader", expires_in_days: "90" },
    headers: { accept: "text/html", referer: `${test.info().project.use.baseURL}/account` },
    maxRedirects: 0,
  });
  expect(blank.status()).toBe(302);
  await page.goto("/account");
  await expect(page.getByTestId("token-error")).toContainText("give the token a name");
  await expect(page.locator('[data-testid="token-row"][data-state="active"]')).toHaveCount(active);

  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole("status").filter({ hasText: "revoked" })).toBeVisible();
  await expect(row).toHaveAttribute("data-state", "revoked");
});
