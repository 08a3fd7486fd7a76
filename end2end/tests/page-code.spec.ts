import { test, expect, Page } from "@playwright/test";
import { ADMIN, isSameDocument, markDocument, signIn, waitForHydration } from "./helpers";

// Each group of pages is its own wasm file (the split build `make` runs): a page downloads its
// group's file when first shown, not every page's code. A file that does not arrive never
// leaves the app stuck.

/** The page groups whose files the browser has asked for so far. */
function groupsFetched(page: Page): string[] {
  const groups: string[] = [];
  page.on("request", (request) => {
    const group = /\/pkg\/split_([a-z_]+)\.[^/]*\.wasm$/.exec(new URL(request.url()).pathname)?.[1];
    if (group && !groups.includes(group)) groups.push(group);
  });
  return groups;
}

test("a first visit downloads only its own pages' code, the next pages' on the way", async ({ page }) => {
  const groups = groupsFetched(page);
  await page.goto("/sign-in");
  await waitForHydration(page);
  expect(groups).toEqual(["sign_in_pages"]);

  await page.getByLabel("Email address").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await markDocument(page);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Exchange service connector");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sync history" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Sync history");
  expect(groups).toEqual(["sign_in_pages", "connector_pages", "history_pages"]);
  expect(await isSameDocument(page)).toBe(true);
});

test("a page whose code does not arrive is loaded from the server instead", async ({ page }) => {
  await signIn(page);
  await page.goto("/conditional-access/exchange-connector");
  await waitForHydration(page);
  await markDocument(page);

  // The admin pages' file is lost on the way (a dropped connection, or a new build that
  // replaced the files while the tab was open).
  let refused = 0;
  await page.route(/\/pkg\/split_admin_pages\.[^/]*\.wasm$/, (route) => {
    refused += 1;
    return route.abort("connectionreset");
  });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }).click();

  // The browser loads the page from the server: a new document, the page the person asked for.
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Users");
  await expect.poll(() => isSameDocument(page)).toBe(false);
  expect(refused).toBeGreaterThan(0);

  // The file arrives again: the admin pages are in place as before, with no reload.
  await page.unrouteAll();
  await page.goto("/conditional-access/exchange-connector");
  await waitForHydration(page);
  await markDocument(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Audit log");
  expect(await isSameDocument(page)).toBe(true);
});
