import { test, expect } from "@playwright/test";
import { ADMIN, signIn, waitForHydration } from "./helpers";

// OIDC_ISSUER_URL=simulator: people sign in with the embedded simulator as their OpenID
// provider (Entra ID in real life). An admin adds an account without a password; its owner
// signs in through the provider's page and lands signed in, the account then linked.

test.describe.configure({ mode: "serial" });

const SIM_ADMIN = "admin@contoso-demo.onmicrosoft.com";

test("an admin adds an account for single sign-on only", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto("/admin/users");
  await waitForHydration(page);
  const form = page.getByRole("form", { name: "Add a user" });
  await expect(form.getByLabel("Initial password (optional)")).toBeVisible();
  await form.getByLabel("Email address").fill(SIM_ADMIN);
  await form.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByRole("status")).toContainText("The user was added.");
  const row = page.locator(`[data-testid="user-row"][data-email="${SIM_ADMIN}"]`);
  await expect(row.getByTestId("sign-in-methods")).toHaveText("Single sign-on (not used yet)");
});

test("cancelling at the provider comes back to the sign-in page, nobody signed in", async ({ page }) => {
  await page.goto("/sign-in");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await expect(page.getByRole("heading", { name: "Permissions requested" })).toBeVisible();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page).toHaveURL(/\/sign-in\?notice=sso-cancelled/);
  await expect(page.getByRole("alert")).toContainText("Single sign-on was cancelled. Nobody was signed in.");
  const me = await page.request.post("/api/auth/me", { headers: { accept: "application/json" } });
  expect(await me.json()).toBeNull();
});

test("sign in with Microsoft: the provider's page, Accept, back where the person was going", async ({ page }) => {
  await page.goto("/conditional-access/exchange-connector/sync-history");
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await waitForHydration(page);
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await expect(page.getByTestId("signed-in-user")).toHaveText(SIM_ADMIN);
  await page.getByRole("button", { name: "Accept" }).click();
  await expect(page).toHaveURL(/\/conditional-access\/exchange-connector\/sync-history$/);
  await expect(page.getByRole("heading", { name: "Sync history", level: 1 })).toBeVisible();
  const me = await page.request.post("/api/auth/me", { headers: { accept: "application/json" } });
  expect((await me.json()).email).toBe(SIM_ADMIN);
});

test("the account now shows as linked on the users page", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto("/admin/users");
  const row = page.locator(`[data-testid="user-row"][data-email="${SIM_ADMIN}"]`);
  await expect(row.getByTestId("sign-in-methods")).toHaveText("Single sign-on (linked)");
});
