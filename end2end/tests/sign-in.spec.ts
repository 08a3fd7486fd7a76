import { test, expect } from "@playwright/test";
import { ADMIN, READER, isSameDocument, markDocument, signIn, waitForHydration } from "./helpers";

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

test("the frame shows who is signed in with the page, and asks again only for a page opened by a click", async ({ page }) => {
  await signIn(page, READER);
  const asked: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/auth/me") asked.push(r.url());
  });

  // The server rendered the header and the navigation for this person: hydration keeps them
  // without asking who is signed in.
  await page.goto("/conditional-access/exchange-connector");
  await waitForHydration(page);
  await expect(page.getByTestId("current-user")).toContainText(READER.email);
  await expect(page.getByTestId("current-user").locator("[data-role]")).toHaveAttribute("data-role", "reader");
  await expect(page.getByRole("link", { name: "Users" })).toHaveCount(0);
  expect(asked).toHaveLength(0);

  // A page opened in the browser checks again (the person may have changed) and still shows them.
  await markDocument(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sync history" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Sync history");
  await expect.poll(() => asked.length).toBe(1);
  await expect(page.getByTestId("current-user")).toContainText(READER.email);
  await expect(page.getByRole("link", { name: "Users" })).toHaveCount(0);
  expect(await isSameDocument(page)).toBe(true);
});
