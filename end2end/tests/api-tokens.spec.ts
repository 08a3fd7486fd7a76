import { test, expect, request as playwrightRequest } from "@playwright/test";
import { ADMIN, checkPage, ensureConnector, signIn, waitForHydration } from "./helpers";

// API tokens, as a person uses them: created on "Your account" (shown once), used by a script
// with no cookie (the REST API under /api/v1), listed with their last use, revoked.

/** A script's HTTP client: no cookies, only the token. */
async function script(token: string) {
  return playwrightRequest.newContext({
    baseURL: test.info().project.use.baseURL,
    extraHTTPHeaders: { authorization: `Bearer ${token}` },
  });
}

test("a token created on the account page drives the API until it is revoked", async ({ page }) => {
  await signIn(page, ADMIN);
  await ensureConnector(page);
  await page.goto("/account");
  await waitForHydration(page);

  const name = `e2e script ${Date.now()}`;
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Role", { exact: true }).selectOption("admin");
  await page.getByRole("button", { name: "Create token" }).click();
  const created = page.getByTestId("token-created");
  await expect(created).toContainText("Copy it now: it is not shown again.");
  const secret = await page.getByTestId("token-secret").inputValue();
  expect(secret).toMatch(/^exc_[A-Za-z0-9_-]{43}$/);
  const row = page.locator(`[data-testid="token-row"][data-name="${name}"]`);
  await expect(row).toHaveAttribute("data-state", "active");
  await expect(row).toContainText("Never");
  await checkPage(page, "account-token-created");

  // A script with the token: reads the connector, starts a sync.
  const api = await script(secret);
  const connectors = await api.get("/api/v1/connectors");
  expect(connectors.status(), await connectors.text()).toBe(200);
  const connector = (await connectors.json()).value[0];
  expect(connector.status).toBe("connected");
  expect(connector.exchangeConnectorType).toBe("serviceToService");
  const sync = await api.post(`/api/v1/connectors/${connector.id}/sync`, { data: { syncType: "deltaSync" } });
  expect([202, 409], await sync.text()).toContain(sync.status());

  // Shown once: after a reload the token is gone from the page, its last use is there.
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByTestId("token-created")).toHaveCount(0);
  await expect(page.locator("body")).not.toContainText(secret);
  await expect(row).not.toContainText("Never");

  // An admin sees it among everyone's tokens, with its owner.
  await page.goto("/admin/users");
  await waitForHydration(page);
  const everyone = page.locator(`[data-testid="token-row"][data-name="${name}"]`);
  await expect(everyone).toContainText(ADMIN.email);
  await checkPage(page, "users-tokens");

  // Revoked on the account page: the script is refused at once.
  await page.goto("/account");
  await waitForHydration(page);
  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(page.getByRole("status").filter({ hasText: "revoked" })).toBeVisible();
  await expect(row).toHaveAttribute("data-state", "revoked");
  const refused = await api.get("/api/v1/connectors");
  expect(refused.status()).toBe(401);
  expect(refused.headers()["content-type"]).toBe("application/problem+json");
  await api.dispose();
});
