import { test, expect } from "@playwright/test";
import { ADMIN, READER, OPTIONAL_CMDLETS, REQUIRED_CMDLETS, SIM_DEVICES, signIn, waitForHydration } from "./helpers";

// EXO_AUTH_MODE=delegated against the embedded simulator: Set Up sends the admin through the
// simulator's consent page and the connector then acts as the admin it names.

test.describe.configure({ mode: "serial" });

const SIM_ADMIN = "admin@contoso-demo.onmicrosoft.com";

test("a reader sees the page but no set-up, sync or remove controls, and direct calls are refused", async ({ page }) => {
  await signIn(page, READER);
  await page.goto("/");
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "none");
  await expect(page.getByTestId("reader-note")).toBeVisible();
  await expect(page.getByRole("link", { name: "Set Up Service to Service Connector" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Set Up Service to Service Connector" })).toHaveCount(0);
  const setUp = await page.request.post("/api/connector/set-up", { headers: { accept: "application/json" } });
  expect(setUp.status()).toBe(403);
  const start = await page.request.get("/auth/exchange/start", { maxRedirects: 0 });
  expect(start.status()).toBe(403);
});

test("sign in, Set Up, accept on the consent page, all 13 cmdlets allowed, first sync, connected as the admin", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto("/");
  await waitForHydration(page);
  await expect(page.getByTestId("identity-note")).toContainText("Your identity");
  await page.getByRole("link", { name: "Set Up Service to Service Connector" }).click();

  // The simulator's consent page (another origin), then back.
  await expect(page.getByRole("button", { name: "Accept" })).toBeVisible();
  await page.getByRole("button", { name: "Accept" }).click();
  await expect(page).toHaveURL(/\/conditional-access\/exchange-connector$/);

  const checklist = page.getByTestId("permission-checklist");
  await expect(checklist).toContainText("Every required cmdlet is allowed.");
  await expect(checklist.locator('[data-permission="allowed"]')).toHaveCount(REQUIRED_CMDLETS.length + OPTIONAL_CMDLETS.length);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected", { timeout: 30_000 });
  await expect(page.getByTestId("device-count")).toHaveText(String(SIM_DEVICES));
  const info = page.getByRole("region", { name: "Exchange Connector Server information" });
  await expect(info).toContainText(SIM_ADMIN);
  await expect(info).toContainText("Delegated");
  await expect(page.getByTestId("set-up-by")).toHaveText(ADMIN.email);
});

test("a tampered state is refused with a clear message and changes nothing", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto("/auth/exchange/callback?code=forged&state=not-ours");
  await expect(page).toHaveURL(/\/conditional-access\/exchange-connector$/);
  await expect(page.getByRole("alert")).toContainText("start the set-up again");
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");
});
