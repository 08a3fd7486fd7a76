import { expect, Page, test } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { writeFile } from "node:fs/promises";
import path from "node:path";

/** The demo tenant's device count, as configured for the test servers. */
export const SIM_DEVICES = 137;

export const REQUIRED_CMDLETS = [
  "Get-ActiveSyncOrganizationSettings",
  "Set-ActiveSyncOrganizationSettings",
  "Get-MobileDeviceMailboxPolicy",
  "Set-MobileDeviceMailboxPolicy",
  "New-MobileDeviceMailboxPolicy",
  "Remove-MobileDeviceMailboxPolicy",
  "Get-ActiveSyncDeviceAccessRule",
  "Set-ActiveSyncDeviceAccessRule",
  "New-ActiveSyncDeviceAccessRule",
  "Remove-ActiveSyncDeviceAccessRule",
  "Get-MobileDeviceStatistics",
  "Get-MobileDevice",
  "Get-ActiveSyncDeviceClass",
];

/** The cmdlets of device actions: the checklist lists them as optional. */
export const OPTIONAL_CMDLETS = ["Get-CASMailbox", "Set-CASMailbox", "Clear-MobileDevice", "Remove-MobileDevice"];

/** The accounts every test server starts with (created by `exchange-connector admin create`). */
export const ADMIN = { email: "admin@e2e.test", password: "an e2e admin password" };
export const READER = { email: "reader@e2e.test", password: "an e2e reader password" };

/** Signs `who` in for the page's browser context (the session cookie is shared with the page). */
export async function signIn(page: Page, who: { email: string; password: string } = ADMIN) {
  const response = await page.request.post("/api/auth/sign-in", {
    form: { email: who.email, password: who.password },
    headers: { accept: "application/json" },
  });
  expect(response.status(), await response.text()).toBe(200);
}

/** Waits until the WebAssembly app has hydrated the server-rendered page. */
export async function waitForHydration(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** Marks the current document so a test can tell whether the page was reloaded. */
export async function markDocument(page: Page) {
  await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
}

export async function isSameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument === true);
}

/** Marks the page's heading so a test can tell whether the page changed in place or was built again. */
export async function markPage(page: Page) {
  await page.locator("h1").evaluate((h) => ((h as unknown as { __samePage: boolean }).__samePage = true));
}

export async function isSamePage(page: Page): Promise<boolean> {
  return page.locator("h1").evaluate((h) => (h as unknown as { __samePage?: boolean }).__samePage === true);
}

/**
 * Makes sure the connector is set up and its first sync (background work) is over, for the
 * signed-in admin: a first call sets it up, a later one is refused as already set up or running.
 */
export async function ensureConnector(page: Page) {
  const response = await page.request.post("/api/connector/set-up", { headers: { accept: "application/json" } });
  const body = await response.text();
  if (response.status() === 409) expect(body).toMatch(/already set up|already running/);
  else expect(response.status(), body).toBe(200);
  await expect
    .poll(
      async () => {
        const overview = await page.request.post("/api/connector/overview", { headers: { accept: "application/json" } });
        const connector = (await overview.json()).connector;
        return connector && !connector.syncing ? connector.status : "syncing";
      },
      { timeout: 60_000 },
    )
    .toBe("connected");
}

// Accessibility (axe-core, WCAG 2.0/2.1 A and AA) and full-page screenshots to look at.

const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
/** end2end/test-results/screens: the screenshots and axe reports to look at after a run. */
const screens = () => path.join(test.info().project.outputDir, "screens");

/** A full-page screenshot and axe-core's WCAG 2.1 AA rules: no violation. */
export async function checkPage(page: Page, name: string) {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: path.join(screens(), `${name}.png`), fullPage: true });
  const results = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  expect(results.passes.length, "axe ran its rules").toBeGreaterThan(0);
  // What axe found and could not decide (for a person to review), next to the screenshot.
  await writeFile(
    path.join(screens(), `axe-${name}.json`),
    JSON.stringify({ url: results.url, violations: results.violations, incomplete: results.incomplete }, null, 2),
  );
  console.log(
    `axe ${name}: ${results.violations.length} violations, ${results.passes.length} rules passed, ` +
      `${results.incomplete.length} to review (${results.incomplete.map((r) => `${r.id}×${r.nodes.length}`).join(", ") || "none"})`,
  );
  const violations = results.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html, message: n.failureSummary })),
  }));
  expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
}
